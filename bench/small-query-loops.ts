import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { post, type GraphQLRequest, type Target } from './measure.ts';

/**
 * Small queries sent while something big runs, from a thread of their own: their latency is the
 * service's, not the benchmark's. Sent from the thread that also receives and parses a 3 MB
 * answer, they waited for that parse and for its garbage collection, and reported it as the
 * service's delay (a p99 of 130 ms where a separate process measured 60).
 */

interface LoopsInput {
  target: Target;
  request: GraphQLRequest;
  loops: number;
  pauseMs: number;
}

export interface LoopsResult {
  /** Round trips, ms, in the order they ended. */
  times: number[];
  /** Requests that failed (e.g. a keep-alive socket the server closed while the loop was held). */
  errors: number;
}

export class SmallQueryLoops {
  private constructor(
    private readonly worker: Worker,
    private readonly result: Promise<LoopsResult>,
  ) {}

  /** Starts `loops` loops, each sending `request` then pausing `pauseMs`, until `stop()`. */
  static async start(input: LoopsInput): Promise<SmallQueryLoops> {
    // A worker thread does not run the parent's --import hooks (Node 20): it registers tsx itself
    // before it loads this module.
    const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: input });
    const started = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const result = new Promise<LoopsResult>((resolve, reject) => {
      worker.on('message', (m: { result?: LoopsResult }) => m.result && resolve(m.result));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the small-query thread exited with ${code}`)));
    });
    await started;
    return new SmallQueryLoops(worker, result);
  }

  async stop(): Promise<LoopsResult> {
    this.worker.postMessage('stop');
    const result = await this.result;
    await this.worker.terminate();
    return result;
  }
}

async function runLoops({ target, request, loops, pauseMs }: LoopsInput): Promise<void> {
  let running = true;
  parentPort!.once('message', () => {
    running = false;
  });
  const times: number[] = [];
  let errors = 0;
  const loop = async () => {
    while (running) {
      try {
        times.push((await post(target, request)).ms);
      } catch {
        errors++;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  parentPort!.postMessage({ started: true });
  await Promise.all(Array.from({ length: loops }, loop));
  parentPort!.postMessage({ result: { times, errors } satisfies LoopsResult });
}

if (!isMainThread && (workerData as LoopsInput | undefined)?.request) await runLoops(workerData as LoopsInput);
