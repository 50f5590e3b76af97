-- The database of record. Idempotent: applied at every start by store.migrate.
--
-- List tables have no uniqueness on the entity id on purpose: exactly-once is
-- the job of processed_events (one row per applied event, written in the same
-- transaction), so a broken dedupe shows up as duplicate rows, not as an error.
-- Every row carries a global seq: cache entries are versioned by it.

CREATE SEQUENCE IF NOT EXISTS row_seq;

CREATE TABLE IF NOT EXISTS processed_events (
    event_id   uuid PRIMARY KEY,
    kind       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS users (
    user_id  bigint PRIMARY KEY,
    nickname text   NOT NULL,
    seq      bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS follows (
    follower_id bigint NOT NULL,
    followee_id bigint NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX IF NOT EXISTS follows_followee ON follows (followee_id);

-- The author's post list.
CREATE TABLE IF NOT EXISTS posts (
    seq           bigint PRIMARY KEY DEFAULT nextval('row_seq'),
    event_id      uuid   NOT NULL,
    post_id       uuid   NOT NULL,
    author_id     bigint NOT NULL,
    body          text   NOT NULL,
    created_at_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_author ON posts (author_id, seq DESC);
CREATE INDEX IF NOT EXISTS posts_post ON posts (post_id);

-- Like and comment counts per post, bumped by the comment and like consumers.
CREATE TABLE IF NOT EXISTS post_stats (
    post_id       uuid   PRIMARY KEY,
    like_count    bigint NOT NULL DEFAULT 0,
    comment_count bigint NOT NULL DEFAULT 0,
    seq           bigint NOT NULL
);

-- Comments: the author's sent list and the post author's received list.
CREATE TABLE IF NOT EXISTS comments_sent (
    seq            bigint PRIMARY KEY DEFAULT nextval('row_seq'),
    event_id       uuid   NOT NULL,
    user_id        bigint NOT NULL,  -- the comment's author
    post_id        uuid   NOT NULL,
    other_user_id  bigint NOT NULL,  -- the post's author
    body           text   NOT NULL,
    created_at_ms  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_sent_user ON comments_sent (user_id, seq DESC);

CREATE TABLE IF NOT EXISTS comments_received (
    seq            bigint PRIMARY KEY DEFAULT nextval('row_seq'),
    event_id       uuid   NOT NULL,
    user_id        bigint NOT NULL,  -- the post's author
    post_id        uuid   NOT NULL,
    other_user_id  bigint NOT NULL,  -- the comment's author
    body           text   NOT NULL,
    created_at_ms  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_received_user ON comments_received (user_id, seq DESC);

-- Likes: the liker's sent list and the post author's received list.
CREATE TABLE IF NOT EXISTS likes_sent (
    seq            bigint PRIMARY KEY DEFAULT nextval('row_seq'),
    event_id       uuid   NOT NULL,
    user_id        bigint NOT NULL,
    post_id        uuid   NOT NULL,
    other_user_id  bigint NOT NULL,
    body           text   NOT NULL DEFAULT '',
    created_at_ms  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS likes_sent_user ON likes_sent (user_id, seq DESC);

CREATE TABLE IF NOT EXISTS likes_received (
    seq            bigint PRIMARY KEY DEFAULT nextval('row_seq'),
    event_id       uuid   NOT NULL,
    user_id        bigint NOT NULL,
    post_id        uuid   NOT NULL,
    other_user_id  bigint NOT NULL,
    body           text   NOT NULL DEFAULT '',
    created_at_ms  bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS likes_received_user ON likes_received (user_id, seq DESC);
