/**
 * Call counters for `GET /__emulator/stats`: every /cgi-bin/ request by path (gettoken included),
 * non-zero errcodes, and the transport-level faults that carry no errcode.
 */
export class Stats {
  total = 0;
  calls: Record<string, number> = {};
  errors: Record<string, number> = {};
  httpErrors: Record<string, number> = {};
  hangs = 0;

  call(path: string): void {
    this.total++;
    this.calls[path] = (this.calls[path] ?? 0) + 1;
  }

  error(errcode: number): void {
    this.errors[errcode] = (this.errors[errcode] ?? 0) + 1;
  }

  httpError(status: number): void {
    this.httpErrors[status] = (this.httpErrors[status] ?? 0) + 1;
  }

  hang(): void {
    this.hangs++;
  }

  reset(): void {
    this.total = 0;
    this.calls = {};
    this.errors = {};
    this.httpErrors = {};
    this.hangs = 0;
  }

  snapshot() {
    return {
      total: this.total,
      calls: { ...this.calls },
      errors: { ...this.errors },
      httpErrors: { ...this.httpErrors },
      hangs: this.hangs,
    };
  }
}
