// Runs plugin code (a call's first slice, each settle, a load) one task at a time, taking
// turns between plugins, and hands the event loop back between stretches of work. A burst
// of busy calls used to run its slices back to back in one synchronous pass (16 calls of a
// loop at the default 1 s CPU limit: 16 s in which the host answered nothing, so its
// supervisor killed it, failing every other plugin's calls too). Now the host reads its
// messages (the supervisor's ping among them) between stretches, so the longest it is
// deaf is one stretch budget plus one task, and a neighbour waits for at most one slice
// of each busy plugin, not for all of them.
import { HOST_SCHEDULE } from '../../defaults.ts'

type Task = () => void

export class SliceScheduler {
  /** Tasks by owner (a plugin instance), in the order owners take turns. */
  private readonly queues = new Map<object, Task[]>()
  /** performance.now() at the start of the current stretch; undefined between stretches. */
  private stretchStart: number | undefined
  private running = false

  constructor(private readonly budgetMs: number = HOST_SCHEDULE.stretchBudgetMs) {}

  /** Runs `task` now if this stretch has time left, else in a later one; never re-entrant. */
  run(owner: object, task: Task): void {
    // The common case, nothing waiting and time left: run it without queueing it.
    if (!this.running && this.queues.size === 0 && this.startStretch()) {
      this.running = true
      try {
        task()
      } finally {
        this.running = false
      }
      return
    }
    const queue = this.queues.get(owner)
    if (queue) queue.push(task)
    else this.queues.set(owner, [task])
    this.pump()
  }

  /** Starts a stretch if none is running; whether the current one has time left. */
  private startStretch(): boolean {
    if (this.stretchStart === undefined) {
      this.stretchStart = performance.now()
      // setImmediate runs after the event loop has polled for I/O: messages first, then
      // the next stretch.
      setImmediate(() => {
        this.stretchStart = undefined
        if (this.queues.size > 0) this.pump()
      })
      return true
    }
    return performance.now() - this.stretchStart < this.budgetMs
  }

  private pump(): void {
    if (this.running) return
    this.startStretch()
    this.running = true
    try {
      while (this.queues.size > 0 && performance.now() - (this.stretchStart as number) < this.budgetMs) {
        // Round robin: the first owner's oldest task; the owner then goes to the back.
        const [owner, queue] = this.queues.entries().next().value as [object, Task[]]
        const task = queue.shift() as Task
        this.queues.delete(owner)
        if (queue.length > 0) this.queues.set(owner, queue)
        task()
      }
    } finally {
      this.running = false
    }
  }
}
