/*
 * plugin.c: the `call LIBRARY SYMBOL [ARG]` kind (the host side of
 * include/corun-plugin.h).
 *
 * plugin_run_call runs in a process-pool worker or in a pool thread. It
 * loads LIBRARY with dlopen(RTLD_NOW | RTLD_LOCAL), checks that the library
 * itself defines corun_plugin_abi equal to CORUN_PLUGIN_ABI, looks up SYMBOL
 * (a function defined by the library itself, not one of its dependencies),
 * and calls it with ARG and a struct corun_out that appends to the job's
 * value. LIBRARY is loaded only from the path given: a name without a slash
 * is opened as "./NAME", so dlopen never searches the library path.
 *
 * Libraries are loaded once per process and never closed: a worker keeps
 * every library it loaded (and every function it looked up) in a small
 * cache, so a plugin may keep state across calls. Failed loads are not
 * cached; the next call tries again. The cache is a list under plugin_mu,
 * since pool threads may call at once; the lock is not held while a plugin
 * function runs. Workers are forked by the fork server, which never calls
 * in here, so a worker starts with an empty cache and an unlocked mutex.
 * The cache lives as long as the process and is never freed.
 *
 * Output: the value keeps CORUN_OUTPUT_CAP bytes. Past that the sink keeps
 * one more byte, which is how a kind_run_fn says "truncated": both pools
 * cut a value at the cap and flag it when it is longer.
 */
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "corun.h"
#include "plugin.h"
#include "util.h"

/* An ELF symbol's type (the same macro body in both ELF classes). */
#define PLUGIN_ST_TYPE(info) ELF64_ST_TYPE(info)

/* A symbol table entry of this machine's ELF class. */
typedef ElfW(Sym) plugin_elfsym;

/* A function looked up in a library. */
struct plugin_fn {
	SLIST_ENTRY(plugin_fn) link; /* in its library's fns */
	corun_plugin_fn *fn;
	char name[];
};

/* A library loaded and checked, under the path the job gave. */
struct plugin_lib {
	SLIST_ENTRY(plugin_lib) link; /* in plugin_libs */
	void *handle;
	struct link_map *map;
	SLIST_HEAD(, plugin_fn) fns;
	char path[];
};

static pthread_mutex_t plugin_mu = PTHREAD_MUTEX_INITIALIZER;
static SLIST_HEAD(, plugin_lib)
    plugin_libs = SLIST_HEAD_INITIALIZER(plugin_libs); /* under plugin_mu */

/* corun_out's write: append to the sink's value up to its cap (and the one
 * byte past it that marks a cut value). */
static int
plugin_write(struct corun_out *out, const void *p, size_t n)
{
	struct plugin_sink *s = out->host;
	struct buf *v = s->value;
	size_t room = v->len < s->cap ? s->cap - v->len : 0;

	if (n == 0)
		return s->truncated ? -1 : 0;
	if (n <= room) {
		buf_add(v, p, n);
		return 0;
	}
	if (room > 0)
		buf_add(v, p, room);
	if (v->len == s->cap)
		buf_addc(v, ((const char *)p)[room]);
	s->truncated = 1;
	return -1;
}

/* corun_out's fail: copy the message's first line into the sink. */
static void
plugin_fail(struct corun_out *out, const char *msg)
{
	struct plugin_sink *s = out->host;
	size_t n;

	if (s->errlen == 0)
		return;
	if (msg == NULL)
		msg = "";
	n = strcspn(msg, "\r\n");
	if (n > s->errlen - 1)
		n = s->errlen - 1;
	memcpy(s->err, msg, n);
	s->err[n] = '\0';
}

/* Make out deliver to sink; both stay the caller's. */
void
plugin_out_init(struct corun_out *out, struct plugin_sink *sink)
{
	out->host = sink;
	out->write = plugin_write;
	out->fail = plugin_fail;
	sink->truncated = 0;
	if (sink->errlen > 0)
		sink->err[0] = '\0';
}

/* The address of name if the library of map defines it itself (not one of
 * its dependencies); NULL otherwise. With sym, also its symbol entry. */
static void *
plugin_own_sym(void *handle, struct link_map *map, const char *name,
	       const plugin_elfsym **sym)
{
	struct link_map *owner = NULL;
	Dl_info info;
	void *addr;

	addr = dlsym(handle, name);
	if (addr == NULL)
		return NULL;
	if (dladdr1(addr, &info, (void **)&owner, RTLD_DL_LINKMAP) == 0 ||
	    owner != map)
		return NULL;
	if (sym != NULL &&
	    dladdr1(addr, &info, (void **)sym, RTLD_DL_SYMENT) == 0)
		*sym = NULL;
	return addr;
}

/* dlerror()'s message without the leading "PATH: " it often repeats. */
static const char *
plugin_dlerror(const char *path)
{
	const char *e = dlerror();
	size_t n = strlen(path);

	if (e == NULL)
		return "unknown error";
	if (strncmp(e, path, n) == 0 && e[n] == ':' && e[n + 1] == ' ')
		e += n + 2;
	return e;
}

/* Open the library named path (as a job gave it) and check its ABI; its
 * handle, or NULL with a message in err. */
static void *
plugin_open(const char *path, struct link_map **map, char *err, size_t errlen)
{
	const char *file = path;
	char *dotted = NULL;
	const void *sym;
	void *handle;
	int abi;

	if (strchr(path, '/') == NULL) {
		dotted = xmalloc(strlen(path) + 3);
		memcpy(dotted, "./", 2);
		strcpy(dotted + 2, path);
		file = dotted;
	}
	dlerror();
	handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		errfmt(err, errlen, "call: %s: cannot load: %s", path,
		       plugin_dlerror(file));
		free(dotted);
		return NULL;
	}
	free(dotted);
	if (dlinfo(handle, RTLD_DI_LINKMAP, map) != 0) {
		errfmt(err, errlen, "call: %s: cannot load: %s", path,
		       plugin_dlerror(file));
		dlclose(handle);
		return NULL;
	}
	sym = plugin_own_sym(handle, *map, CORUN_PLUGIN_ABI_SYMBOL, NULL);
	if (sym == NULL) {
		errfmt(err, errlen, "call: %s: not a corun plugin (no %s)",
		       path, CORUN_PLUGIN_ABI_SYMBOL);
		dlclose(handle);
		return NULL;
	}
	/* Copied, not read through an int pointer: a plugin may define the
	 * symbol as something else (a function), at any alignment. */
	memcpy(&abi, sym, sizeof abi);
	if (abi != CORUN_PLUGIN_ABI) {
		errfmt(err, errlen, "call: %s: plugin ABI %d, corun speaks %d",
		       path, abi, CORUN_PLUGIN_ABI);
		dlclose(handle);
		return NULL;
	}
	return handle;
}

/* The cached library for path, loading it if need be; NULL with a message
 * in err. Called with plugin_mu held; the entry is the cache's. */
static struct plugin_lib *
plugin_load(const char *path, char *err, size_t errlen)
{
	struct plugin_lib *lib;
	struct link_map *map;
	void *handle;
	size_t n;

	SLIST_FOREACH(lib, &plugin_libs, link)
		if (strcmp(lib->path, path) == 0)
			return lib;
	handle = plugin_open(path, &map, err, errlen);
	if (handle == NULL)
		return NULL;
	n = strlen(path) + 1;
	lib = xmalloc(sizeof *lib + n);
	lib->handle = handle;
	lib->map = map;
	SLIST_INIT(&lib->fns);
	memcpy(lib->path, path, n);
	SLIST_INSERT_HEAD(&plugin_libs, lib, link);
	return lib;
}

/* The function called name that lib defines, or NULL. Called with
 * plugin_mu held; found functions are cached. */
static corun_plugin_fn *
plugin_find(struct plugin_lib *lib, const char *name)
{
	const plugin_elfsym *sym = NULL;
	struct plugin_fn *f;
	void *addr;
	size_t n;
	int type;

	SLIST_FOREACH(f, &lib->fns, link)
		if (strcmp(f->name, name) == 0)
			return f->fn;
	addr = plugin_own_sym(lib->handle, lib->map, name, &sym);
	if (addr == NULL || sym == NULL)
		return NULL;
	type = PLUGIN_ST_TYPE(sym->st_info);
	if (type != STT_FUNC && type != STT_GNU_IFUNC)
		return NULL;
	n = strlen(name) + 1;
	f = xmalloc(sizeof *f + n);
	/* POSIX: dlsym's result converts to a function pointer. */
	f->fn = (corun_plugin_fn *)addr;
	memcpy(f->name, name, n);
	SLIST_INSERT_HEAD(&lib->fns, f, link);
	return f->fn;
}

/* call LIBRARY SYMBOL [ARG]: the function's output is the value; on
 * failure value is left as it was and err holds the message. */
int
plugin_run_call(int argc, char *const argv[], struct buf *value, char *err,
		size_t errlen)
{
	const char *arg = argc > 2 ? argv[2] : "";
	struct plugin_sink sink;
	struct plugin_lib *lib;
	struct corun_out out;
	corun_plugin_fn *fn = NULL;
	size_t start = value->len;

	pthread_mutex_lock(&plugin_mu);
	lib = plugin_load(argv[0], err, errlen);
	if (lib != NULL)
		fn = plugin_find(lib, argv[1]);
	pthread_mutex_unlock(&plugin_mu);
	if (lib == NULL)
		return -1;
	if (fn == NULL) {
		errfmt(err, errlen, "call: %s: no function '%s'", argv[0],
		       argv[1]);
		return -1;
	}
	sink.value = value;
	sink.cap = CORUN_OUTPUT_CAP;
	sink.err = err;
	sink.errlen = errlen;
	plugin_out_init(&out, &sink);
	if (fn(arg, strlen(arg), &out) == 0)
		return 0;
	if (value->data != NULL) {
		value->len = start;
		value->data[start] = '\0';
	}
	if (err[0] == '\0')
		errfmt(err, errlen, "call: %s failed", argv[1]);
	return -1;
}
