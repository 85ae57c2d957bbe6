/** The WeCom client's public surface: `createWeComClient`, its errors, hooks and types. */
export {
  createWeComClient,
  DEFAULT_BASE_URL,
  DEFAULT_DEADLINE_MS,
  type WeComClient,
  type WeComClientOptions,
  type WeComLogger,
  type WeComSecrets,
} from './client.ts';
export * from './errors.ts';
export type { CallOptions, Endpoint, SecretKind, TokenPolicy } from './endpoint.ts';
export type {
  WeComClientHooks,
  MetricsSnapshot,
  RequestEvent,
  RetryEvent,
  TokenRefreshEvent,
  QueueEvent,
  ReconcileEvent,
} from './metrics.ts';
export { LruTokenStore, type TokenStore, type StoredToken } from './token.ts';
export { createWeComPool, createWeComAgent } from './transport.ts';
export type {
  WeComUser,
  WeComSimpleUser,
  UserCreateInput,
  UserUpdateInput,
  ExtAttr,
  ExternalProfile,
  Gender,
  UserStatus,
  UserIdPage,
} from './users.ts';
export type { WeComDepartment, WeComDepartmentRef, DepartmentCreateInput, DepartmentUpdateInput } from './departments.ts';
export type { WeComTag, WeComTagSummary, TagMembersInput, TagMembersResult } from './tags.ts';
export type { InviteInput, InviteResult, ImportInput, ImportJobResult, ImportJobStatus, ImportRecordResult, JobCallback } from './batch.ts';
export type { ExportInput, ExportJobResult, ExportJobStatus, ExportFileRef } from './export.ts';
export type { LinkedUser, LinkedSimpleUser, LinkedDepartment, LinkedPermList } from './linked-corp.ts';
export type { MediaType, MediaUploadInput, MediaUploadResult } from './media.ts';
export type { QrCodeSize } from './corp.ts';
export type { WeComAgent } from './agent.ts';
