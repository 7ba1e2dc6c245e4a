/**
 * @module handlers/redis/cluster-connect
 * `Cluster#connect()` of ioredis 6.1, made to settle. When the slot map has loaded but the ready
 * check then fails (a node's connection closes, or CLUSTER INFO says `cluster_state:fail`), ioredis
 * reconnects through a new internal connect() and never settles the promise the caller holds, even
 * when the cluster ends for good (clusterRetryStrategy returned null) or the reconnect succeeds.
 * A caller that awaits it waits forever (seen as a hung msession scan and a hung session start;
 * pinned in spec/redis/cluster-connect.test.ts). The cluster's own status events settle it here.
 */
import type { Cluster } from 'ioredis';

/** Resolves when `cluster` is ready, rejects with connect()'s error or when the cluster ends first. */
export function connectCluster(cluster: Cluster): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      cluster.off('ready', onReady);
      cluster.off('end', onEnd);
    };
    const onReady = (): void => {
      done();
      resolve();
    };
    const onEnd = (): void => {
      done();
      reject(new Error('None of startup nodes is available'));
    };
    cluster.on('ready', onReady);
    cluster.on('end', onEnd);
    cluster.connect().then(onReady, (e: unknown) => {
      done();
      reject(e);
    });
  });
}
