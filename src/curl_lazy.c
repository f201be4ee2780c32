/*
 * curl_lazy.c: libcurl through dlopen (see curl_lazy.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include "curl_lazy.h"
#include "util.h"

struct curl_lazy lcurl;

/* Each field of the table and the libcurl symbol that fills it. */
static const struct {
	const char *name;
	size_t offset;
} curl_lazy_syms[] = {
#define SYM(f) {"curl_" #f, offsetof(struct curl_lazy, f)}
	SYM(global_init),      SYM(global_cleanup),
	SYM(version_info),     SYM(easy_init),
	SYM(easy_cleanup),     SYM(easy_setopt),
	SYM(easy_getinfo),     SYM(easy_strerror),
	SYM(multi_init),       SYM(multi_cleanup),
	SYM(multi_setopt),     SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_assign),
	SYM(multi_socket_action), SYM(multi_info_read),
	SYM(multi_strerror),   SYM(slist_append),
	SYM(slist_free_all),   SYM(url),
	SYM(url_cleanup),      SYM(url_set),
	SYM(url_get),          SYM(free),
#undef SYM
};

/* Load libcurl and fill the table, once. */
int
curl_lazy_load(char *err, size_t errlen)
{
	static int loaded;
	void *lib;

	if (loaded)
		return 0;
	lib = dlopen(CORUN_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		errfmt(err, errlen, "http: cannot load libcurl: %s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof curl_lazy_syms / sizeof *curl_lazy_syms;
	     i++) {
		void *f = dlsym(lib, curl_lazy_syms[i].name);

		if (f == NULL) {
			errfmt(err, errlen, "http: libcurl has no %s",
			       curl_lazy_syms[i].name);
			dlclose(lib);
			return -1;
		}
		/* POSIX: a function's address fits in a void *. */
		memcpy((char *)&lcurl + curl_lazy_syms[i].offset, &f, sizeof f);
	}
	loaded = 1;
	return 0;
}
