/* What may reach haproxy.cfg and runtime-API commands from service
 * definitions, ZooKeeper nodes and host files. Everything that is not
 * explicitly allowed is refused, so that no input can inject configuration. */
#ifndef PM_VALIDATE_H
#define PM_VALIDATE_H

#include <stdbool.h>

#define VAL_NAME_MAX	64
#define VAL_OPTION_MAX	1024
#define VAL_HOST_MAX	253

/* Service (section) names: [A-Za-z0-9_.-], starting with a letter or digit. */
bool val_name(const char *s);
/* One option: printable ASCII, not empty, no ';', no '#', and no "$NAME"
 * or "${" (HAProxy would expand proxymgrd's environment into it). */
bool val_option(const char *s);
/* Whole config lines: NULL if s may be rendered, else why not (a fixed
 * text that quotes nothing of s). Each is an option (val_option) whose
 * first word HAProxy takes there (haproxy/keywords.h): a listen_options
 * or haproxy.defaults line starts with a proxy keyword, a haproxy.global
 * line with anything but a section keyword or a directive. */
const char *val_option_why(const char *s);
const char *val_listen_line(const char *s);
const char *val_defaults_line(const char *s);
const char *val_global_line(const char *s);
/* NULL, or why a service's option (listen_options, server_options) is
 * refused beyond val_option/val_line, in words for the log. Checked on
 * what HAProxy reads once quotes and escapes are resolved: no control
 * character ("\n", "\x0a": a line of its own in HAProxy's messages), no
 * "\n", "\r" or "\t" left for a fetch argument to resolve, no env()
 * fetch. runtime (server_options, sent in `add server`): no "<<", which
 * turns HAProxy's CLI to payload mode, and no trailing '\', which
 * escapes the command's line end. */
const char *val_option_unsafe(const char *s, bool runtime);
/* An IPv4 or IPv6 literal, or a DNS host name. */
bool val_host(const char *s);
/* A DNS name as SRV records are named ("_http._tcp.example.com"): labels
 * of [A-Za-z0-9_-], 1..63 each. */
bool val_srv_name(const char *s);
bool val_ipv6(const char *s);
/* An IPv4 or IPv6 literal. */
bool val_ip(const char *s);
/* ZooKeeper servers: host:port[,host:port...], an optional chroot path
 * after the last one ("zk1:2181,zk2:2181/app"). */
bool val_zk_servers(const char *s);
/* An absolute ZooKeeper path: "/" or "/a/b", no empty, "." or ".."
 * component, no trailing '/', printable ASCII without spaces. */
bool val_zk_path(const char *s);

#endif
