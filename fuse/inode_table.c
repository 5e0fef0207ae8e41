#include "inode_table.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_INO 1

typedef struct inode {
	uint64_t ino;
	char *path;
	uint64_t nlookup;
	int64_t open_mtime_ns;
	uint64_t open_size;
	bool opened;
} inode;

struct inode_table {
	pthread_mutex_t lock;
	GHashTable *by_ino;    /* uint64 ino -> inode* (owns) */
	GHashTable *by_path;   /* path -> inode* */
	uint64_t next_ino;
};

static void inode_free(gpointer p)
{
	inode *n = p;

	free(n->path);
	free(n);
}

static guint ino_hash(gconstpointer k)
{
	uint64_t v = *(const uint64_t *)k;
	return (guint)(v ^ (v >> 32));
}

static gboolean ino_equal(gconstpointer a, gconstpointer b)
{
	return *(const uint64_t *)a == *(const uint64_t *)b;
}

static inode *insert(inode_table *t, const char *path, uint64_t ino)
{
	inode *n = calloc(1, sizeof(*n));

	if (!n || !(n->path = strdup(path))) {
		free(n);
		return NULL;
	}
	n->ino = ino;
	g_hash_table_insert(t->by_ino, &n->ino, n);
	g_hash_table_insert(t->by_path, n->path, n);
	return n;
}

inode_table *itab_new(void)
{
	inode_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->by_ino = g_hash_table_new_full(ino_hash, ino_equal, NULL, inode_free);
	t->by_path = g_hash_table_new(g_str_hash, g_str_equal);
	t->next_ino = ROOT_INO + 1;
	if (!insert(t, "/", ROOT_INO)) {
		itab_free(t);
		return NULL;
	}
	return t;
}

void itab_free(inode_table *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->by_path);
	g_hash_table_destroy(t->by_ino);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

bool itab_path(inode_table *t, uint64_t ino, char *buf, size_t size)
{
	inode *n;
	bool ok = false;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_lookup(t->by_ino, &ino);
	if (n && strlen(n->path) < size) {
		strcpy(buf, n->path);
		ok = true;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

uint64_t itab_lookup(inode_table *t, const char *path)
{
	inode *n;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_lookup(t->by_path, path);
	if (!n)
		n = insert(t, path, t->next_ino++);
	if (n) {
		n->nlookup++;
		ino = n->ino;
	}
	pthread_mutex_unlock(&t->lock);
	return ino;
}

void itab_forget(inode_table *t, uint64_t ino, uint64_t count)
{
	inode *n;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_lookup(t->by_ino, &ino);
	if (n) {
		n->nlookup = count >= n->nlookup ? 0 : n->nlookup - count;
		if (n->nlookup == 0 && ino != ROOT_INO) {
			g_hash_table_remove(t->by_path, n->path);
			g_hash_table_remove(t->by_ino, &ino);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

bool itab_same_as_last_open(inode_table *t, uint64_t ino, int64_t mtime_ns, uint64_t size)
{
	inode *n;
	bool same = false;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_lookup(t->by_ino, &ino);
	if (n) {
		same = n->opened && n->open_mtime_ns == mtime_ns && n->open_size == size;
		n->opened = true;
		n->open_mtime_ns = mtime_ns;
		n->open_size = size;
	}
	pthread_mutex_unlock(&t->lock);
	return same;
}

uint64_t itab_count(inode_table *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_size(t->by_ino);
	pthread_mutex_unlock(&t->lock);
	return n;
}
