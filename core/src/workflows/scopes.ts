// Which names an expression may use depends on where it is: a trigger filter runs before any
// step exists; an action sees the steps before it; an output sees every action.

export const TRIGGER_ROOTS: readonly string[] = ['trigger', 'event']
export const STEP_ROOTS: readonly string[] = ['trigger', 'event', 'steps', 'run']
