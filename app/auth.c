#include "config.h"
#include "auth.h"
#include "arena.h"
#include "buf.h"

#include <string.h>

static const struct {
	const char *name;
	unsigned role;
} role_names[] = {
	{"api", ROLE_API}, {"user", ROLE_USER}, {"manager", ROLE_MANAGER},
	{"support", ROLE_SUPPORT}, {"admin", ROLE_ADMIN},
};

unsigned role_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(s, role_names[i].name) == 0)
			return role_names[i].role;
	return 0;
}

const char *role_name(unsigned role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return "?";
}

int roles_parse_list(const char *s, unsigned *roles)
{
	*roles = 0;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char name[16];
		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, s, n);
		name[n] = '\0';
		unsigned r = role_parse(name);
		if (!r)
			return -1;
		*roles |= r;
		s += n + (comma ? 1 : 0);
		if (comma && !*s)
			return -1;
	}
	return *roles ? 0 : -1;
}

const char *roles_pg_array(struct arena *a, unsigned roles)
{
	struct buf b;
	buf_init_arena(&b, a);
	buf_addch(&b, '{');
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (!(roles & role_names[i].role))
			continue;
		if (b.len > 1)
			buf_addch(&b, ',');
		buf_adds(&b, role_names[i].name);
	}
	buf_addch(&b, '}');
	return b.data;
}

unsigned auth_level(unsigned roles)
{
	static const unsigned order[] = {ROLE_ADMIN, ROLE_SUPPORT, ROLE_MANAGER, ROLE_USER, ROLE_API};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (roles & order[i])
			return order[i];
	return 0;
}

bool auth_username_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 100)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}
