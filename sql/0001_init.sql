-- jamb: the core schema.
--
-- InnoDB, utf8mb4, times in UTC (the connection sets time_zone to +00:00),
-- money in integer minor units with a currency.  Every index says which
-- query it serves.  Written for MySQL 8 and MariaDB 10.6+ alike.

CREATE TABLE users (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	-- Stored lower-cased by the application; the collation makes the
	-- unique key case-insensitive as a second line of defence.
	email			VARCHAR(254) NOT NULL,
	email_verified_at	DATETIME(6) NULL,
	-- Argon2id encoded hash; NULL for accounts that sign in by link or
	-- through an external identity provider only.
	password_hash		VARCHAR(255) NULL,
	name			VARCHAR(200) NOT NULL DEFAULT '',
	-- Public author pages (/v1/authors/{slug}); NULL for members.
	slug			VARCHAR(200) NULL,
	bio			TEXT NULL,
	role			ENUM('owner', 'admin', 'editor', 'author',
				    'member') NOT NULL DEFAULT 'member',
	stripe_customer_id	VARCHAR(255) NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
				    ON UPDATE CURRENT_TIMESTAMP(6),
	deleted_at		DATETIME(6) NULL,
	version			INT UNSIGNED NOT NULL DEFAULT 1,
	PRIMARY KEY (id),
	-- Sign-in and signup look accounts up by email.
	UNIQUE KEY users_email (email),
	UNIQUE KEY users_slug (slug),
	-- Payment webhooks name the customer, not the user.
	UNIQUE KEY users_stripe_customer (stripe_customer_id),
	-- Admin member lists filter by role, newest first.
	KEY users_role (role, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Accounts at external identity providers (OpenID Connect issuers).
CREATE TABLE user_identities (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id			BIGINT UNSIGNED NOT NULL,
	issuer			VARCHAR(255) NOT NULL,
	subject			VARCHAR(255) NOT NULL,
	email			VARCHAR(254) NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_seen_at		DATETIME(6) NULL,
	PRIMARY KEY (id),
	-- A verified token's (iss, sub) finds its local user.
	UNIQUE KEY user_identities_iss_sub (issuer, subject),
	-- A user's identities, and the foreign key.
	KEY user_identities_user (user_id),
	CONSTRAINT user_identities_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Refresh tokens: only their SHA-256 is stored.  Tokens rotated from one
-- sign-in share a family; reuse of a rotated one revokes the family.
CREATE TABLE refresh_tokens (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id			BIGINT UNSIGNED NOT NULL,
	family_id		BINARY(16) NOT NULL,
	token_hash		BINARY(32) NOT NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	expires_at		DATETIME(6) NOT NULL,
	rotated_at		DATETIME(6) NULL,
	revoked_at		DATETIME(6) NULL,
	user_agent		VARCHAR(255) NULL,
	ip			VARCHAR(45) NULL,
	PRIMARY KEY (id),
	-- Every refresh presents a token: look-up by its hash.
	UNIQUE KEY refresh_tokens_hash (token_hash),
	-- Revoking a family, or all sessions of a user.
	KEY refresh_tokens_family (family_id),
	KEY refresh_tokens_user (user_id),
	-- Pruning expired tokens.
	KEY refresh_tokens_expires (expires_at),
	CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Single-use links sent by email (sign-in, verification, password reset).
CREATE TABLE magic_links (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	email			VARCHAR(254) NOT NULL,
	user_id			BIGINT UNSIGNED NULL,
	purpose			ENUM('login', 'verify', 'reset') NOT NULL,
	token_hash		BINARY(32) NOT NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	expires_at		DATETIME(6) NOT NULL,
	used_at			DATETIME(6) NULL,
	ip			VARCHAR(45) NULL,
	PRIMARY KEY (id),
	-- Redeeming a link looks it up by the hash of its token.
	UNIQUE KEY magic_links_hash (token_hash),
	-- Recent links for one address (a second limit beside memcached's).
	KEY magic_links_email (email, created_at),
	KEY magic_links_expires (expires_at),
	CONSTRAINT magic_links_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API keys for build scripts: shown once, stored as a SHA-256, found by
-- their visible prefix.
CREATE TABLE api_keys (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name			VARCHAR(200) NOT NULL,
	prefix			VARCHAR(16) NOT NULL,
	key_hash		BINARY(32) NOT NULL,
	role			ENUM('owner', 'admin', 'editor', 'author',
				    'member') NOT NULL,
	created_by		BIGINT UNSIGNED NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_used_at		DATETIME(6) NULL,
	revoked_at		DATETIME(6) NULL,
	PRIMARY KEY (id),
	-- Authentication finds the key by its prefix, then compares the
	-- hash in constant time.
	UNIQUE KEY api_keys_prefix (prefix),
	UNIQUE KEY api_keys_hash (key_hash),
	CONSTRAINT api_keys_creator_fk FOREIGN KEY (created_by)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Uploaded files; the bytes live in S3-compatible storage.
CREATE TABLE assets (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	-- Generated by jamb, never taken from a client.
	object_key		VARCHAR(512) NOT NULL,
	filename		VARCHAR(255) NOT NULL DEFAULT '',
	content_type		VARCHAR(127) NOT NULL,
	size			BIGINT UNSIGNED NOT NULL,
	status			ENUM('pending', 'uploaded', 'deleted') NOT NULL
				    DEFAULT 'pending',
	visibility		ENUM('public', 'private') NOT NULL
				    DEFAULT 'public',
	owner_id		BIGINT UNSIGNED NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	uploaded_at		DATETIME(6) NULL,
	deleted_at		DATETIME(6) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY assets_object_key (object_key),
	-- A member's uploads (quota) and the admin list, newest first.
	KEY assets_owner (owner_id, id),
	CONSTRAINT assets_owner_fk FOREIGN KEY (owner_id)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE posts (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	slug			VARCHAR(200) NOT NULL,
	title			VARCHAR(500) NOT NULL,
	excerpt			TEXT NOT NULL,
	body_md			MEDIUMTEXT NOT NULL,
	-- Rendered from body_md at save time, in libcmark's safe mode.
	body_html		MEDIUMTEXT NOT NULL,
	status			ENUM('draft', 'review', 'scheduled',
				    'published', 'archived') NOT NULL
				    DEFAULT 'draft',
	-- 'tiers' means: readers with one of the tiers in post_tiers.
	visibility		ENUM('public', 'members', 'paid', 'tiers')
				    NOT NULL DEFAULT 'public',
	feature_asset_id	BIGINT UNSIGNED NULL,
	meta_title		VARCHAR(300) NULL,
	meta_description	VARCHAR(500) NULL,
	canonical_url		VARCHAR(2048) NULL,
	social_image		VARCHAR(2048) NULL,
	published_at		DATETIME(6) NULL,
	scheduled_at		DATETIME(6) NULL,
	created_by		BIGINT UNSIGNED NULL,
	-- A WordPress import's guid, so importing a file again updates.
	wp_guid			VARCHAR(255) NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
				    ON UPDATE CURRENT_TIMESTAMP(6),
	deleted_at		DATETIME(6) NULL,
	-- Optimistic locking: an update names the version it started from.
	version			INT UNSIGNED NOT NULL DEFAULT 1,
	PRIMARY KEY (id),
	UNIQUE KEY posts_slug (slug),
	UNIQUE KEY posts_wp_guid (wp_guid),
	-- The public list: published, not deleted, newest first, with
	-- (published_at, id) as the keyset cursor, so a page deep in the
	-- list costs what the first one does.
	KEY posts_public (status, deleted_at, published_at, id),
	-- The scheduler claims due posts: status = 'scheduled' and
	-- scheduled_at <= now.
	KEY posts_scheduled (status, scheduled_at),
	-- Sitemaps and feeds of recent changes.
	KEY posts_updated (updated_at),
	FULLTEXT KEY posts_search (title, excerpt, body_md),
	CONSTRAINT posts_feature_asset_fk FOREIGN KEY (feature_asset_id)
	    REFERENCES assets (id) ON DELETE SET NULL,
	CONSTRAINT posts_creator_fk FOREIGN KEY (created_by)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE post_authors (
	post_id			BIGINT UNSIGNED NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	position		SMALLINT UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (post_id, user_id),
	-- An author's posts (/v1/authors/{slug}, the author filter).
	KEY post_authors_user (user_id, post_id),
	CONSTRAINT post_authors_post_fk FOREIGN KEY (post_id)
	    REFERENCES posts (id) ON DELETE CASCADE,
	CONSTRAINT post_authors_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every saved change of the editable text of a post.
CREATE TABLE post_revisions (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	post_id			BIGINT UNSIGNED NOT NULL,
	-- The post's version this revision became.
	post_version		INT UNSIGNED NOT NULL,
	author_id		BIGINT UNSIGNED NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	title			VARCHAR(500) NOT NULL,
	excerpt			TEXT NOT NULL,
	body_md			MEDIUMTEXT NOT NULL,
	-- meta_title, meta_description, canonical_url, social_image.
	seo			JSON NULL,
	PRIMARY KEY (id),
	-- A post's revisions, newest first, and pruning all but the last N.
	KEY post_revisions_post (post_id, id),
	CONSTRAINT post_revisions_post_fk FOREIGN KEY (post_id)
	    REFERENCES posts (id) ON DELETE CASCADE,
	CONSTRAINT post_revisions_author_fk FOREIGN KEY (author_id)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tags (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	slug			VARCHAR(200) NOT NULL,
	name			VARCHAR(200) NOT NULL,
	description		TEXT NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY tags_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE post_tags (
	post_id			BIGINT UNSIGNED NOT NULL,
	tag_id			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (post_id, tag_id),
	-- A tag's posts (/v1/tags/{slug}, the tag filter).
	KEY post_tags_tag (tag_id, post_id),
	CONSTRAINT post_tags_post_fk FOREIGN KEY (post_id)
	    REFERENCES posts (id) ON DELETE CASCADE,
	CONSTRAINT post_tags_tag_fk FOREIGN KEY (tag_id)
	    REFERENCES tags (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Membership tiers: products with a monthly and a yearly price.
CREATE TABLE tiers (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	slug			VARCHAR(100) NOT NULL,
	name			VARCHAR(200) NOT NULL,
	description		TEXT NULL,
	benefits		TEXT NULL,
	kind			ENUM('free', 'paid') NOT NULL,
	currency		CHAR(3) NULL,
	monthly_amount		INT UNSIGNED NULL,
	yearly_amount		INT UNSIGNED NULL,
	stripe_product_id	VARCHAR(255) NULL,
	stripe_monthly_price_id	VARCHAR(255) NULL,
	stripe_yearly_price_id	VARCHAR(255) NULL,
	active			TINYINT(1) NOT NULL DEFAULT 1,
	position		SMALLINT UNSIGNED NOT NULL DEFAULT 0,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
				    ON UPDATE CURRENT_TIMESTAMP(6),
	version			INT UNSIGNED NOT NULL DEFAULT 1,
	PRIMARY KEY (id),
	UNIQUE KEY tiers_slug (slug),
	-- Webhooks name the product; only configured products apply.
	UNIQUE KEY tiers_stripe_product (stripe_product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE post_tiers (
	post_id			BIGINT UNSIGNED NOT NULL,
	tier_id			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (post_id, tier_id),
	KEY post_tiers_tier (tier_id),
	CONSTRAINT post_tiers_post_fk FOREIGN KEY (post_id)
	    REFERENCES posts (id) ON DELETE CASCADE,
	CONSTRAINT post_tiers_tier_fk FOREIGN KEY (tier_id)
	    REFERENCES tiers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Membership state as the payment provider reports it.
CREATE TABLE subscriptions (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id			BIGINT UNSIGNED NOT NULL,
	tier_id			BIGINT UNSIGNED NOT NULL,
	provider		VARCHAR(32) NOT NULL,
	provider_subscription_id VARCHAR(255) NOT NULL,
	provider_customer_id	VARCHAR(255) NULL,
	status			ENUM('incomplete', 'trialing', 'active',
				    'past_due', 'canceled', 'unpaid',
				    'paused', 'expired') NOT NULL,
	billing_interval	ENUM('month', 'year') NULL,
	current_period_end	DATETIME(6) NULL,
	cancel_at_period_end	TINYINT(1) NOT NULL DEFAULT 0,
	canceled_at		DATETIME(6) NULL,
	-- The provider's time of the state stored here: an older event
	-- never overwrites a newer state.
	provider_updated_at	DATETIME(6) NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
				    ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	-- Webhooks name the provider's subscription.
	UNIQUE KEY subscriptions_provider_id (provider,
	    provider_subscription_id),
	-- Access checks: a user's active subscriptions.
	KEY subscriptions_user (user_id, status),
	-- Admin member lists by tier and status.
	KEY subscriptions_tier (tier_id, status),
	KEY subscriptions_customer (provider, provider_customer_id),
	CONSTRAINT subscriptions_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT subscriptions_tier_fk FOREIGN KEY (tier_id)
	    REFERENCES tiers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Received webhook deliveries.  The unique key is what makes applying
-- an event happen exactly once: the row is inserted in the transaction
-- that applies the event.
CREATE TABLE webhook_events (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	provider		VARCHAR(32) NOT NULL,
	event_id		VARCHAR(255) NOT NULL,
	type			VARCHAR(100) NOT NULL,
	payload			MEDIUMTEXT NOT NULL,
	provider_created_at	DATETIME(6) NULL,
	received_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	outcome			ENUM('applied', 'ignored', 'failed') NOT NULL,
	detail			VARCHAR(500) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY webhook_events_provider_event (provider, event_id),
	-- `jamb webhooks list`: recent deliveries first.
	KEY webhook_events_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Endpoints that receive jamb's own signed webhooks.
CREATE TABLE webhook_endpoints (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	url			VARCHAR(2048) NOT NULL,
	-- Kept in clear: signing needs it (Standard Webhooks whsec_...).
	secret			VARCHAR(255) NOT NULL,
	-- Event names, comma separated; empty means all.
	events			TEXT NOT NULL,
	active			TINYINT(1) NOT NULL DEFAULT 1,
	created_by		BIGINT UNSIGNED NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
				    ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	CONSTRAINT webhook_endpoints_creator_fk FOREIGN KEY (created_by)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Work for the background child (emails, outgoing webhooks, deploy
-- hooks), written in the same transaction as the change it reports.
CREATE TABLE outbox (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	kind			ENUM('email', 'webhook', 'hook') NOT NULL,
	-- Stable across retries: the webhook-id receivers deduplicate on.
	message_id		VARCHAR(64) NOT NULL,
	endpoint_id		BIGINT UNSIGNED NULL,
	payload			MEDIUMTEXT NOT NULL,
	status			ENUM('pending', 'sent', 'dead') NOT NULL
				    DEFAULT 'pending',
	attempts		SMALLINT UNSIGNED NOT NULL DEFAULT 0,
	next_attempt_at		DATETIME(6) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(6),
	last_error		VARCHAR(500) NULL,
	created_at		DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	sent_at			DATETIME(6) NULL,
	PRIMARY KEY (id),
	-- Claiming due work: status = 'pending' and next_attempt_at <= now,
	-- with FOR UPDATE SKIP LOCKED.  Also the outbox depth and age.
	KEY outbox_due (status, next_attempt_at),
	-- An endpoint's delivery log, newest first.
	KEY outbox_endpoint (endpoint_id, id),
	CONSTRAINT outbox_endpoint_fk FOREIGN KEY (endpoint_id)
	    REFERENCES webhook_endpoints (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who did what: workflow transitions, role and key changes, imports.
CREATE TABLE audit_log (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	at			DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	actor_user_id		BIGINT UNSIGNED NULL,
	actor_api_key_id	BIGINT UNSIGNED NULL,
	action			VARCHAR(64) NOT NULL,
	object_type		VARCHAR(32) NOT NULL,
	object_id		BIGINT UNSIGNED NULL,
	request_id		VARCHAR(64) NULL,
	ip			VARCHAR(45) NULL,
	details			JSON NULL,
	PRIMARY KEY (id),
	-- The history of one object (a post's transitions).
	KEY audit_log_object (object_type, object_id, id),
	-- What one person did.
	KEY audit_log_actor (actor_user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
