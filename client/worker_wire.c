/* Builders of the worker client's request messages (see worker_wire.h). */
#include "worker_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/block_worker.pb-c.h"
#include "grpc/common.pb-c.h"
#include "grpc/file_system_master.pb-c.h"
#include "grpc/sasl_server.pb-c.h"

static int pack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	*out = malloc(n ? n : 1);
	if (!*out)
		return -ENOMEM;
	*len = protobuf_c_message_pack(m, *out);
	return 0;
}

/* Requests carry an empty options message, as the Java client's do; the
 * worker then applies its defaults (e.g. its metadata cache). */
int dfs_wire_get_status(const char *uri, uint8_t **out, size_t *len)
{
	Alluxio__Grpc__File__GetStatusPRequest req = ALLUXIO__GRPC__FILE__GET_STATUS_PREQUEST__INIT;
	Alluxio__Grpc__File__GetStatusPOptions o = ALLUXIO__GRPC__FILE__GET_STATUS_POPTIONS__INIT;

	req.path = (char *)uri;
	req.options = &o;
	return pack(&req.base, out, len);
}

int dfs_wire_list_status(const char *uri, uint8_t **out, size_t *len)
{
	Alluxio__Grpc__File__ListStatusPRequest req = ALLUXIO__GRPC__FILE__LIST_STATUS_PREQUEST__INIT;
	Alluxio__Grpc__File__ListStatusPOptions o = ALLUXIO__GRPC__FILE__LIST_STATUS_POPTIONS__INIT;

	req.path = (char *)uri;
	req.options = &o;
	return pack(&req.base, out, len);
}

int dfs_wire_exists(const char *uri, uint8_t **out, size_t *len)
{
	Alluxio__Grpc__File__ExistsPRequest req = ALLUXIO__GRPC__FILE__EXISTS_PREQUEST__INIT;
	Alluxio__Grpc__File__ExistsPOptions o = ALLUXIO__GRPC__FILE__EXISTS_POPTIONS__INIT;

	req.path = (char *)uri;
	req.options = &o;
	return pack(&req.base, out, len);
}

int dfs_wire_cache_data(const char *uri, int64_t pos, int64_t length, bool async,
			uint8_t **out, size_t *len)
{
	Alluxio__Grpc__Block__CacheDataRequest req = ALLUXIO__GRPC__BLOCK__CACHE_DATA_REQUEST__INIT;

	req.ufs_path = (char *)uri;
	req.has_pos = 1;
	req.pos = pos;
	req.has_length = 1;
	req.length = length;
	req.has_async = 1;
	req.async = async;
	return pack(&req.base, out, len);
}

int dfs_wire_read_request(const char *uri, uint64_t file_length, uint64_t offset,
			  uint64_t length, uint32_t chunk_size, int64_t ack,
			  uint8_t **out, size_t *len)
{
	Alluxio__Grpc__Block__ReadRequest req = ALLUXIO__GRPC__BLOCK__READ_REQUEST__INIT;
	Alluxio__Proto__Dataserver__OpenUfsBlockOptions ufs =
		ALLUXIO__PROTO__DATASERVER__OPEN_UFS_BLOCK_OPTIONS__INIT;

	ufs.ufs_path = (char *)uri;
	ufs.has_offset_in_file = 1;
	ufs.offset_in_file = 0;
	ufs.has_block_size = 1;        /* bounds the read: the file's length */
	ufs.block_size = (int64_t)file_length;
	ufs.has_mountid = 1;
	ufs.mountid = 0;
	req.has_block_id = 1;
	req.block_id = -1;             /* ignored by Dora; the Java client sends -1 */
	req.has_offset = 1;
	req.offset = (int64_t)offset;
	req.has_length = 1;
	req.length = (int64_t)length;
	req.has_chunk_size = 1;
	req.chunk_size = chunk_size;
	req.open_ufs_block_options = &ufs;
	if (ack >= 0) {
		/* an ack: the worker looks at offset_received first */
		req.has_offset_received = 1;
		req.offset_received = ack;
	}
	return pack(&req.base, out, len);
}

int dfs_wire_sasl_challenge(const char *authzid, const char *user, const char *password,
			    const char *client_id, const char *channel_ref,
			    uint8_t **out, size_t *len)
{
	Alluxio__Grpc__Sasl__SaslMessage m = ALLUXIO__GRPC__SASL__SASL_MESSAGE__INIT;
	size_t zl = strlen(authzid), ul = strlen(user), pl = strlen(password);
	uint8_t *plain = malloc(zl + ul + pl + 2);
	int rc;

	if (!plain)
		return -ENOMEM;
	/* SASL PLAIN initial response: authzid NUL authcid NUL password */
	memcpy(plain, authzid, zl);
	plain[zl] = 0;
	memcpy(plain + zl + 1, user, ul);
	plain[zl + 1 + ul] = 0;
	memcpy(plain + zl + ul + 2, password, pl);
	m.has_messagetype = 1;
	m.messagetype = ALLUXIO__GRPC__SASL__SASL_MESSAGE_TYPE__CHALLENGE;
	m.has_message = 1;
	m.message.data = plain;
	m.message.len = zl + ul + pl + 2;
	m.clientid = (char *)client_id;
	m.has_authenticationscheme = 1;
	m.authenticationscheme = ALLUXIO__GRPC__SASL__CHANNEL_AUTHENTICATION_SCHEME__SIMPLE;
	m.channelref = (char *)channel_ref;
	rc = pack(&m.base, out, len);
	free(plain);
	return rc;
}

void dfs_wire_pmode(uint32_t mode, void *pmode)
{
	Alluxio__Grpc__PMode *p = pmode;

	alluxio__grpc__pmode__init(p);
	p->ownerbits = (Alluxio__Grpc__Bits)(((mode >> 6) & 7) + 1);
	p->groupbits = (Alluxio__Grpc__Bits)(((mode >> 3) & 7) + 1);
	p->otherbits = (Alluxio__Grpc__Bits)((mode & 7) + 1);
}

int dfs_wire_mode_from_pmode(const void *pmode, uint32_t *mode)
{
	const Alluxio__Grpc__PMode *p = pmode;
	int b[3] = { (int)p->ownerbits, (int)p->groupbits, (int)p->otherbits };
	int i;

	*mode = 0;
	for (i = 0; i < 3; i++) {
		if (b[i] < ALLUXIO__GRPC__BITS__NONE || b[i] > ALLUXIO__GRPC__BITS__ALL)
			return -EINVAL;
		*mode = (*mode << 3) | (uint32_t)(b[i] - 1);
	}
	return 0;
}

int dfs_wire_pack_pmode(uint32_t mode, uint8_t **out, size_t *len)
{
	Alluxio__Grpc__PMode p;

	dfs_wire_pmode(mode, &p);
	return pack(&p.base, out, len);
}
