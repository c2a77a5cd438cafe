// pinion/openssl/unique_ptr.h — RAII owners for OpenSSL objects (BoringSSL's
// bssl::UniquePtr idea), for code that uses OpenSSL beside pinion: the
// adapters, the CLI and applications. Header-only; no other engine header
// includes it, so the engine's API stays free of OpenSSL types.
#ifndef PINION_OPENSSL_UNIQUE_PTR_H_
#define PINION_OPENSSL_UNIQUE_PTR_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

namespace pinion::openssl {

template <typename T>
struct OpenSslDeleter;

#define PINION_OPENSSL_DELETER(type, free_fn)           \
  template <>                                           \
  struct OpenSslDeleter<type> {                         \
    void operator()(type* p) const { free_fn(p); }      \
  }

PINION_OPENSSL_DELETER(BIO, BIO_free_all);
PINION_OPENSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
PINION_OPENSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
PINION_OPENSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
PINION_OPENSSL_DELETER(X509, X509_free);
PINION_OPENSSL_DELETER(X509_REQ, X509_REQ_free);
PINION_OPENSSL_DELETER(X509_STORE, X509_STORE_free);
PINION_OPENSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
PINION_OPENSSL_DELETER(X509_NAME, X509_NAME_free);
PINION_OPENSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
PINION_OPENSSL_DELETER(ASN1_STRING, ASN1_STRING_free);  // ASN1_TIME, ASN1_INTEGER …
PINION_OPENSSL_DELETER(BIGNUM, BN_free);
PINION_OPENSSL_DELETER(SSL_CTX, SSL_CTX_free);
PINION_OPENSSL_DELETER(SSL, SSL_free);
PINION_OPENSSL_DELETER(SSL_SESSION, SSL_SESSION_free);
PINION_OPENSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);

#undef PINION_OPENSSL_DELETER

template <>
struct OpenSslDeleter<STACK_OF(X509)> {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};

// UniquePtr<T> owns one OpenSSL object and frees it with the matching *_free.
template <typename T>
using UniquePtr = std::unique_ptr<T, OpenSslDeleter<T>>;

}  // namespace pinion::openssl

#endif  // PINION_OPENSSL_UNIQUE_PTR_H_
