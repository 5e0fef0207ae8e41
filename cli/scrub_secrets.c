/* Blanking secrets in the command line's -o lists (see cli.h). */
#include <stdbool.h>
#include <string.h>

#include "cli.h"
#include "config.h"

void cli_scrub_secrets(char **lists, size_t nlists)
{
	for (size_t i = 0; i < nlists; i++) {
		for (char *item = lists[i]; item && *item;) {
			size_t len = strcspn(item, ","), klen = strcspn(item, "=");

			if (klen < len) {
				/* Every secret option, by any of its names. */
				char c = item[klen];
				bool secret;

				item[klen] = '\0';
				secret = dfs_config_is_secret(item);
				item[klen] = c;
				if (secret)
					memset(item + klen + 1, '*', len - klen - 1);
			}
			item += len + (item[len] == ',');
		}
	}
}
