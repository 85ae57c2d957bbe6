/**
 * A WeCom wire object (a member, a department, a job result …) as the emulator harness answers
 * it; tests compare it field by field with what the service returned. Declared beside the harness
 * (packages/wecom-emulator/src/testing.ts), where its `any` is explained.
 */
export type { Wire } from 'wecom-emulator/testing';
