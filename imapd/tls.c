#include "autoconfig.h"

#include <openssl/err.h>

#include "log.h"
#include "tls.h"

/*
 * Mozilla's "intermediate" configuration (v5.7) without the DHE suites:
 * TLS 1.2 with ECDHE and AEAD ciphers only, so every connection has
 * forward secrecy; TLS 1.3 keeps OpenSSL's suites (all AEAD).
 */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"

const char *
tls_error_string(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no OpenSSL error recorded";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

SSL_CTX *
tls_context_new(const char *cert_path, const char *key_path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		log_errorx("TLS: cannot create a context: %s", tls_error_string());
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1) {
		log_errorx("TLS: cannot set the protocol, ciphers or groups: %s",
		    tls_error_string());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		log_errorx("TLS: cannot load certificate %s: %s", cert_path,
		    tls_error_string());
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_errorx("TLS: cannot load private key %s: %s", key_path,
		    tls_error_string());
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * No resumption.  Each process serves one connection and exits, so a
	 * session cache would never be hit, and tickets would need a key
	 * shared by every cairn-imapd and rotated by the master: a secret in
	 * every process that reads client bytes, for a saving of one
	 * handshake per reconnect.  NO_TICKET stops TLS 1.2 tickets, zero
	 * tickets stops TLS 1.3's NewSessionTicket.  No compression (CRIME),
	 * no renegotiation, the server's cipher order.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
		log_errorx("TLS: cannot turn session tickets off: %s", tls_error_string());
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}
