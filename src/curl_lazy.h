/*
 * curl_lazy.h: libcurl, loaded at its first use.
 *
 * Linking libcurl pulls some thirty shared libraries into every corun,
 * which costs milliseconds at each start: most runs never make an http
 * job. So the http kind reaches libcurl through this table of function
 * pointers, filled by dlopen the first time an http line is parsed or run.
 * Loop thread only (the parse-time check runs there too).
 */
#ifndef CORUN_CURL_LAZY_H
#define CORUN_CURL_LAZY_H

#include <curl/curl.h>
#include <stddef.h>

struct curl_lazy {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	const char *(*multi_strerror)(CURLMcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*free)(void *);
};

/* The functions; valid once curl_lazy_load has returned 0. */
extern struct curl_lazy lcurl;

/* Load libcurl unless it is loaded: 0, or -1 with a message in err. */
int curl_lazy_load(char *err, size_t errlen);

#endif
