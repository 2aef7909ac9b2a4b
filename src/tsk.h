/* SPDX-License-Identifier: MIT */
/*
 * Project-wide status codes, verdicts and the principal: the vocabulary that the store, the
 * validator and both front ends share. No functions with state live here.
 */
#ifndef TSK_H
#define TSK_H

#include <stdint.h>

/* Result of an operation. Zero is success; a verdict is not an error (see tsk_verdict). */
enum tsk_status {
	TSK_OK = 0,
	TSK_NOT_FOUND,		/* the thing asked for does not exist */
	TSK_ERR_INPUT,		/* the caller's input is malformed */
	TSK_ERR_CONFLICT,	/* a uniqueness or state rule refused the change */
	TSK_ERR_LIMIT,		/* a configured limit refused the change (active keys) */
	TSK_ERR_FORBIDDEN,	/* the actor may not touch another account's things */
	TSK_ERR_STORE,		/* the database failed; already logged */
	TSK_ERR_INTERNAL,	/* anything else that failed; already logged */
};

/*
 * The validator's answer. The zero value denies: a path that bails out before deciding,
 * or an internal failure, can never read as "yes".
 */
enum tsk_verdict {
	TSK_VERDICT_ERROR = 0,	/* internal failure: fail closed (503) */
	TSK_VERDICT_OK,
	TSK_VERDICT_MISSING,	/* no credential presented (401) */
	TSK_VERDICT_INVALID,	/* unknown or malformed credential (401) */
	TSK_VERDICT_DISABLED,	/* key revoked / deactivated (403) */
	TSK_VERDICT_EXPIRED,	/* key past expires_at, or session idle too long (403) */
	TSK_VERDICT_NO_CREDIT,	/* metered operation, account balance exhausted (403) */
	TSK_VERDICT_INSUFFICIENT_SCOPE,	/* the key lacks the operation's scope (403) */
	TSK_VERDICT_IP_NOT_ALLOWED,	/* the client address is outside the key's allowlist (403) */
	TSK_VERDICT_RATE_LIMITED,	/* the key's per-minute or per-day limit is used up (429) */
	TSK_VERDICT__COUNT
};

/* Where a credential came from: the same credential must get the same verdict on each. */
enum tsk_channel {
	TSK_CHANNEL_SOAP = 1,	/* SessionIDHeader/SessionID */
	TSK_CHANNEL_REST,	/* X-API-Key or Authorization: Bearer */
};

enum tsk_principal_kind {
	TSK_PRINCIPAL_NONE = 0,
	TSK_PRINCIPAL_KEY,	/* a TrackServiceKey */
	TSK_PRINCIPAL_SESSION,	/* a session key from Login */
};

#define TSK_NAME_MAX	128	/* account, key and user names, including the NUL */
#define TSK_PREFIX_MAX	24	/* display prefix of a key, including the NUL */
#define TSK_ENV_MAX	8	/* "live", "test", "legacy" */
#define TSK_SCOPES_MAX	256	/* space-separated scopes */

/* Scopes the service itself checks. */
#define TSK_SCOPE_CREDIT	"credit:read"
#define TSK_SCOPE_ADMIN		"keys:admin"
/* What a key gets when its creator names no scopes, and what a Login session holds. */
#define TSK_SCOPES_DEFAULT	TSK_SCOPE_CREDIT

/* Who a credential belongs to. Never holds the credential itself. */
struct tsk_principal {
	enum tsk_principal_kind	kind;
	int64_t		account_id;
	char		account[TSK_NAME_MAX];
	int64_t		credit;		/* account balance when checked */
	int64_t		key_id;		/* TSK_PRINCIPAL_KEY */
	char		key_name[TSK_NAME_MAX];
	char		prefix[TSK_PREFIX_MAX];
	int64_t		session_id;	/* TSK_PRINCIPAL_SESSION */
	int64_t		user_id;
	char		user[TSK_NAME_MAX];
	char		env[TSK_ENV_MAX];	/* "live", "test", "legacy"; "" for a session */
	char		scopes[TSK_SCOPES_MAX];
	int		platform;	/* a platform key administers every account */
	int64_t		monthly_allowance;
	int64_t		rate_minute;	/* 0 = unlimited */
	int64_t		rate_day;
	int64_t		created_at;	/* unix seconds; 0 = unknown */
	int64_t		expires_at;	/* 0 = never; for a session, when it idles out */
	int64_t		last_used_at;	/* 0 = never */
	int64_t		retry_after;	/* RATE_LIMITED: seconds until the window ends */
};

#endif
