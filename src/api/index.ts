/**
 * rocket-cluster's programmatic API (docs/API.md): `import { startCluster } from 'rocket-cluster'`,
 * or `require('rocket-cluster')`. This module's graph has no top-level await,
 * so that Node's require(esm) can load it.
 */
export { startCluster } from './start-cluster.js';
export type { Cluster, ClusterEventMap, ClusterExit, ReloadEvent, ScaleEvent, WorkerEvent } from './cluster-handle.js';
export type { ClusterOptions, ClusterOptionKey, LaunchOptions } from './options.js';
export { RocketError, ERRORS, type ErrorCode } from '../shared/errors.js';
export type { ListenEntry } from '../shared/options.js';
export type { ClusterConfig, ListenAddress, TlsSettings } from '../shared/config.js';
export type { StatusReport, ChildState, LogStats, DescriptorCount, DescriptorStats } from '../shared/status-report.js';
export type { StatusResult, ReloadResult, ScaleResult, ProcessUsage } from '../shared/control-protocol.js';
export type { WorkerExitReason } from '../shared/protocol.js';
