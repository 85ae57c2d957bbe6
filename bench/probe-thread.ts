import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { post, type GraphQLRequest, type Target } from './measure.ts';

/**
 * Latency measured from a thread of its own: the service's, not the benchmark's. The benchmark's
 * main thread holds the corp's snapshot and receives and parses 3 MB trees; requests timed there
 * waited for that parsing and that garbage collection too, and reported it as the service's delay
 * (small queries beside the big tree: a p99 of 130 ms where a separate process measured 60).
 * The thread warms its own HTTP client (GET /healthz, which runs no GraphQL) before it times
 * anything, so the first timed request does not pay for compiling fetch.
 */

type Job =
  /** `loops` loops, each sending `request` then pausing `pauseMs`, until the next message. */
  | { kind: 'loops'; request: GraphQLRequest; loops: number; pauseMs: number }
  /** Each request once, one after the other. */
  | { kind: 'sequence'; requests: GraphQLRequest[] };

export interface ProbeResult {
  /** Round trips, ms, in the order they ended. */
  times: number[];
  /** Requests that failed to complete (e.g. a keep-alive socket the server closed while the loop was held). */
  errors: number;
  /** Answers that were not a 200 without errors, described. */
  failures: string[];
}

const CLIENT_WARM_UP_REQUESTS = 50;

export class ProbeThread {
  private constructor(private readonly worker: Worker) {}

  static async start(target: Target): Promise<ProbeThread> {
    // A worker thread does not run the parent's --import hooks (Node 20): it registers tsx itself
    // before it loads this module.
    const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: target });
    // A run that fails half-way must still end: the thread never keeps the process alive.
    worker.unref();
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new ProbeThread(worker);
  }

  /** Sends each request once, in order, and gives their times. */
  sequence(requests: GraphQLRequest[]): Promise<ProbeResult> {
    return this.run({ kind: 'sequence', requests });
  }

  /** Starts small-query loops; the function it gives ends them and gives their times. */
  async loops(job: Omit<Extract<Job, { kind: 'loops' }>, 'kind'>): Promise<() => Promise<ProbeResult>> {
    const result = this.run({ kind: 'loops', ...job });
    await this.next<'started'>();
    return () => {
      this.worker.postMessage('stop');
      return result;
    };
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }

  private async run(job: Job): Promise<ProbeResult> {
    const done = this.next<ProbeResult>((m) => typeof m === 'object');
    this.worker.postMessage(job);
    return done;
  }

  private next<T>(accept: (message: unknown) => boolean = () => true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (!accept(message)) return;
        this.worker.off('message', onMessage).off('error', reject);
        resolve(message as T);
      };
      this.worker.on('message', onMessage).once('error', reject);
    });
  }
}

async function serve(target: Target): Promise<void> {
  for (let i = 0; i < CLIENT_WARM_UP_REQUESTS; i++) await (await fetch(`${target.url}/healthz`)).arrayBuffer();
  let stop = () => {};
  parentPort!.on('message', async (message: Job | 'stop') => {
    if (message === 'stop') return stop();
    const result: ProbeResult = { times: [], errors: 0, failures: [] };
    const send = async (request: GraphQLRequest) => {
      try {
        const answer = await post(target, request, 120_000);
        result.times.push(answer.ms);
        if (answer.status !== 200 || answer.errors?.length)
          result.failures.push(
            `${JSON.stringify(request.variables)}: HTTP ${answer.status} ${JSON.stringify(answer.errors).slice(0, 200)}`,
          );
      } catch {
        result.errors++;
      }
    };
    if (message.kind === 'sequence') {
      for (const request of message.requests) await send(request);
    } else {
      let running = true;
      stop = () => {
        running = false;
      };
      const loop = async () => {
        while (running) {
          await send(message.request);
          await new Promise((resolve) => setTimeout(resolve, message.pauseMs));
        }
      };
      const loops = Promise.all(Array.from({ length: message.loops }, loop));
      parentPort!.postMessage('started');
      await loops;
    }
    parentPort!.postMessage(result);
  });
  parentPort!.postMessage('ready');
}

if (!isMainThread && (workerData as Target | undefined)?.url) await serve(workerData as Target);
