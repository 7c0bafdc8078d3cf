/**
 * A nats-server of the test's own, with JetStream on a store in a temporary folder: tests that kill
 * or restart the broker must not touch the machine's shared one. It listens on a port the OS picks
 * (`-p -1`), read from the ports file the server writes; a restart reuses that port and the store,
 * as a supervisor restarting a crashed broker would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class TestNatsServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  #child: ChildProcess | undefined;
  #port = -1;

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.#port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the server (on its first port again after a kill) and waits until it accepts clients. */
  async start(): Promise<void> {
    const port = this.#port === -1 ? '-1' : String(this.#port);
    for (const file of readdirSync(this.dir)) if (file.endsWith('.ports')) rmSync(join(this.dir, file));
    const child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', port, '-js', '-sd', join(this.dir, 'store'), '--ports_file_dir', this.dir],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ports = readdirSync(this.dir).find((file) => file.endsWith('.ports'));
      if (ports !== undefined) {
        try {
          const { nats } = JSON.parse(readFileSync(join(this.dir, ports), 'utf8')) as { nats: string[] };
          this.#port = Number(new URL((nats[0] as string).replace('nats://', 'http://')).port);
          return;
        } catch {
          // Written but not whole yet.
        }
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('nats-server did not start');
      await sleep(20);
    }
  }

  /** Kills the server by its PID (SIGKILL: no clean shutdown) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
  }

  /** Kills the server and removes its store. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
