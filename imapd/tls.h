/* The TLS server context of cairn-imapd (OpenSSL), loaded before the drop. */
#ifndef CAIRN_TLS_H
#define CAIRN_TLS_H

#include <openssl/ssl.h>

/* NULL with the reason logged when the files do not load. */
SSL_CTX *tls_context_new(const char *cert_path, const char *key_path);
/* The first error on OpenSSL's queue, as text (queue cleared). */
const char *tls_error_string(void);

#endif
