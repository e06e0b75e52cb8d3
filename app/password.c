#include "config.h"
#include "password.h"
#include "str.h"

#include <crypt.h>
#include <string.h>

/* a valid bcrypt hash of a random string, used to burn the same time for unknown users */
static const char dummy_hash[] = "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.rGv9b6pgg0z1C8Q4Q4xj7l7bq1nK";

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	if (strlen(pw) > PASSWORD_MAX_LEN)
		return -1;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2b$", 10, NULL, 0, salt, sizeof(salt)))
		return -1;
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	const char *h = crypt_rn(pw, salt, &cd, sizeof(cd));
	if (!h || h[0] == '*' || strlen(h) >= PASSWORD_HASH_MAX)
		return -1;
	strcpy(out, h);
	return 0;
}

bool password_verify(const char *pw, const char *hash)
{
	bool have = hash && hash[0] == '$';
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	const char *h = crypt_rn(pw, have ? hash : dummy_hash, &cd, sizeof(cd));
	if (!have || !h || h[0] == '*')
		return false;
	return str_ct_eq(h, strlen(h), hash, strlen(hash));
}
