import type { ApiResponse } from 'wecom-emulator/testing';

/**
 * A WeCom wire object (a member, a department, a job result …) as the emulator harness answers
 * it; tests compare it field by field with what the service returned. Its `any` is explained
 * where ApiResponse declares it (packages/wecom-emulator/src/testing.ts).
 */
export type Wire = ApiResponse['json'];
