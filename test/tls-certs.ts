import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './temp-dir.ts'

// Certificates for TLS tests, made with the openssl CLI in a temp folder: certificate
// authorities, a server certificate for 127.0.0.1/localhost, and client certificates that
// are good, from another CA, or expired (backdated with `openssl ca`).

export interface Pem {
  cert: string
  key: string
}

export class TestPki {
  readonly dir = tempDir('pki')
  #serial = 1

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] })
  }

  #path(name: string): string {
    return join(this.dir, name)
  }

  /** A self-signed certificate authority. */
  ca(name: string): Pem {
    const p = { cert: this.#path(`${name}.crt`), key: this.#path(`${name}.key`) }
    this.#openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      p.key,
      '-out',
      p.cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ])
    return p
  }

  /**
   * A certificate signed by `ca`: for the server (127.0.0.1, localhost) or a client.
   * `expired` makes one whose validity ended yesterday.
   */
  issue(ca: Pem, name: string, use: 'server' | 'client', opts: { expired?: boolean } = {}): Pem {
    const p = { cert: this.#path(`${name}.crt`), key: this.#path(`${name}.key`) }
    const csr = this.#path(`${name}.csr`)
    this.#openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      p.key,
      '-out',
      csr,
      '-subj',
      `/CN=${name}`,
    ])
    const ext = this.#path(`${name}.ext`)
    writeFileSync(
      ext,
      use === 'server'
        ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n',
    )
    const serial = String(this.#serial++)
    if (!opts.expired) {
      this.#openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.cert,
        '-CAkey',
        ca.key,
        '-set_serial',
        serial,
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        p.cert,
      ])
      return p
    }
    // `openssl x509` cannot backdate; `openssl ca` can, with a minimal database.
    const db = this.#path(`${name}.db`)
    writeFileSync(db, '')
    writeFileSync(this.#path(`${name}.serial`), `${serial.padStart(2, '0')}\n`)
    const conf = this.#path(`${name}.cnf`)
    writeFileSync(
      conf,
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${db}\nserial=${this.#path(`${name}.serial`)}\nnew_certs_dir=${this.dir}\n` +
        `default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`,
    )
    this.#openssl([
      'ca',
      '-batch',
      '-config',
      conf,
      '-cert',
      ca.cert,
      '-keyfile',
      ca.key,
      '-in',
      csr,
      '-out',
      p.cert,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-extfile',
      ext,
      '-notext',
    ])
    return p
  }
}
