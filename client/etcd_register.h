/*
 * Registering a worker in etcd the way an Alluxio 3.x worker does on join
 * (EtcdMembershipManager.join + ServiceDiscoveryRecipe): for tests and the
 * test worker, so that dorafs's membership is exercised against real
 * registrations and lease expiry.
 *
 *   /DHT/<cluster>/AUTHORIZED/worker-<id>   entity JSON, no lease (persists)
 *   /ServiceDiscovery/<cluster>/worker-<id> entity JSON, attached to a lease
 *                                           of ttl seconds, kept alive by a
 *                                           thread (one POST every ttl/3 s)
 *
 * If the lease is lost (etcd restarted, a long pause), the thread grants a
 * new one and writes the live key again, as Alluxio's checkAllForReconnect.
 */
#ifndef DORAFS_ETCD_REGISTER_H
#define DORAFS_ETCD_REGISTER_H

#include <stdbool.h>
#include <stddef.h>

#include "etcd_client.h"
#include "worker_entity.h"

typedef struct etcd_registration etcd_registration;

/*
 * Writes both keys and starts the keep-alive thread.  cluster NULL:
 * "DefaultAlluxioCluster"; ttl_seconds <= 0: 120 (Alluxio's
 * alluxio.worker.failure.detection.timeout).  Returns 0, or -1 with a
 * one-line message (nothing is left registered then).
 */
int etcd_register_worker(const etcd_options *o, const char *cluster, const dfs_worker_entity *e,
			 int ttl_seconds, etcd_registration **out, char *err, size_t errlen);

/*
 * Stops keeping the lease alive.  leave = true revokes the lease, so the
 * live key disappears now (a clean shutdown); false just stops, so the key
 * expires after the TTL, as when a worker dies.  The /DHT entry stays in
 * both cases, as in Alluxio.  NULL is ignored.
 */
void etcd_unregister_worker(etcd_registration *r, bool leave);

#endif
