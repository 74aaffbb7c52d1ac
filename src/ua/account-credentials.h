#pragma once

#include "session/credentials.h"
#include "ua/account.h"

G_BEGIN_DECLS

/* The credential store (session/credentials.h) of one account, kept
 * current: when the account's settings change, the store is told (and
 * forgets what it learnt when the server, proxy or user moved). */

SpCredentials *sp_account_credentials_new (SpAccount *account);
/* The account a store made here belongs to. */
SpAccount *sp_account_credentials_get_account (SpCredentials *credentials);

G_END_DECLS
