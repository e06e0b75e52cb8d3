/* password: bcrypt through libxcrypt ($2a$ hashes from cc-backend verify). */
#ifndef JOBSCOPE_PASSWORD_H
#define JOBSCOPE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128
#define PASSWORD_MAX_LEN 72  /* bcrypt looks at 72 bytes; longer input is refused, not silently cut */

/* bcrypt hash ($2b$, cost 10) of pw into out; -1 on failure or a too long password */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* constant-time check of pw against a stored crypt(3) hash; a NULL/empty hash
 * still costs one bcrypt so that unknown users take as long as known ones */
bool password_verify(const char *pw, const char *hash);

#endif
