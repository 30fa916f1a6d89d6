#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "markdown.h"
#include "password.h"
#include "seed.h"
#include "util.h"

/*
 * jamb seed: demo content for a new site, and bulk posts for
 * benchmarks.  Everything is made up from the word lists below by a
 * pseudo-random generator with a fixed seed, so two runs produce the
 * same site (dates are relative to the day of the run).
 */

#define DAY		86400
#define DEMO_SEED	0x6a616d6264656d6fULL
#define DEMO_DOMAIN	"demo.jamb.test"
#define DEMO_POSTS	200
#define DEMO_SCHEDULED	4
#define DEMO_REVIEW	3
#define DEMO_DRAFTS	5
#define DEMO_PUBLISHED	(DEMO_POSTS - DEMO_SCHEDULED - DEMO_REVIEW - \
			    DEMO_DRAFTS)
#define PASSWORD_LEN	16
#define SLUG_MAX	80

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define PICK(r, a)	((a)[rng_below((r), NELEM(a))])

/* splitmix64: small, fast, and the same sequence on every platform. */
struct rng {
	uint64_t	 s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t	 z;

	z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number below n; the bias of the modulo does not matter here. */
static uint32_t
rng_below(struct rng *r, size_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

static uint32_t
rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* Word lists of the demo site, a writer's newsletter and podcast. */

static const char *const adjectives[] = {
	"quiet", "grey", "salt-bitten", "late", "early", "windless",
	"small", "restless", "bright", "slow", "cold", "long", "low",
	"borrowed", "unfinished", "narrow", "open", "patient", "silver",
	"green", "half-remembered", "ordinary", "wild", "steady",
};

static const char *const nouns[] = {
	"tide", "heron", "lighthouse", "notebook", "harbour", "curlew",
	"fog", "shoreline", "estuary", "ferry", "shell", "storm", "kelp",
	"lantern", "map", "jetty", "sandbar", "gull", "seal",
	"oystercatcher", "boat", "kettle", "compass", "dune", "wave",
};

static const char *const places[] = {
	"estuary", "harbour wall", "salt marsh", "north beach", "old pier",
	"lighthouse", "dunes", "mudflats", "boathouse", "headland",
	"tidal island", "river mouth", "sea wall", "ferry landing",
};

static const char *const abstracts[] = {
	"patience", "attention", "leaving", "writing", "home", "grief",
	"beginnings", "time", "listening", "weather", "work", "change",
	"rest", "memory", "staying put", "paying attention", "endings",
};

static const char *const seasons[] = {
	"spring", "summer", "autumn", "winter",
};

static const char *const gerunds[] = {
	"walking", "watching", "mending", "waiting at", "drawing",
	"counting birds at", "reading at", "listening at", "swimming off",
};

/*
 * Templates: %a adjective, %A with its article, %n noun, %N with its
 * article, %p place, %x an abstract noun, %s season, %g gerund.
 */
static const char *const titles[] = {
	"What the %n taught me about %x",
	"Notes from the %p",
	"%A %s at the %p",
	"Letter from the %p",
	"On %x and the %n",
	"%g the %p",
	"The %a %n",
	"Why I keep going back to the %p",
	"Field notes: the %n in %s",
	"Small hours at the %p",
	"Everything I know about %x, so far",
	"How to watch %N",
	"In praise of the %a %n",
	"Reading list for %A %s",
	"A map of the %p",
	"The %n and the question of %x",
	"%s, %x, and %N",
	"Ten minutes with %N",
	"What I got wrong about %x",
	"Before the %n",
};

static const char *const sentences[] = {
	"The %n was %a this morning, and I stayed at the %p longer than "
	    "I meant to.",
	"I have been thinking about %x since %s began.",
	"Nobody tells you how %a the %p gets before the tide turns.",
	"A reader wrote to ask about %x; this is the long answer.",
	"We walked out past the %p with a flask of tea and no plan.",
	"There is %N that comes back to the %p every %s, and I have "
	    "started to wait for it.",
	"Writing about %x is mostly %g the same %p until something "
	    "changes.",
	"The light over the %p was %a and flat, the kind that makes every "
	    "%n look closer than it is.",
	"I keep a notebook for days like this one.",
	"By noon the %n had gone and the %p belonged to the gulls again.",
	"My neighbour says the %p was different when she was young, %a and "
	    "full of boats.",
	"It is easy to miss the %n if you are looking for something "
	    "bigger.",
	"This is the part of %s I would keep in a jar if I could.",
	"Some weeks the work is %x; some weeks it is only %g the %p.",
	"The forecast promised rain, and the %p got fog instead.",
	"I counted eleven herons on the way home, which is a personal "
	    "record.",
	"There is no lesson here about %x, only %A %n and a cold walk "
	    "back.",
	"When the tide is out you can walk almost all the way to the %p.",
	"I learned more about %x from the %n than from any book this year.",
	"The ferry was late again, so I sat on the %p and wrote this.",
	"Somewhere between the %p and the kettle, the sentence finally "
	    "arrived.",
	"If you only read one thing this %s, make it something slow.",
	"The %n does not care whether anyone is watching, which is the "
	    "point.",
	"I drafted this three times and every version was about %x.",
	"Thank you to everyone who wrote back last week; I read every "
	    "letter.",
};

static const char *const headings[] = {
	"What I saw", "The walk back", "A note on %x", "Before the tide",
	"What comes next", "From the notebook", "On %x", "Listening",
	"The %p in %s", "Housekeeping", "A small correction",
};

static const char *const list_intros[] = {
	"What I carried out to the %p:",
	"Things I noticed this week:",
	"A few answers to the questions you sent:",
	"What I am reading, watching and listening to:",
};

static const char *const list_items[] = {
	"%A %n, seen twice", "%g the %p at dawn", "a notebook that survives "
	    "the rain", "%x, slowly", "the %a %n by the %p",
	"a thermos of strong tea", "one good pencil", "the tide tables",
	"a book about %x", "an old map of the %p", "a letter from a reader",
};

/*
 * The site's people.  Everyone signs in with the one demo password; the
 * paying members have an active Stripe subscription with made-up ids.
 */
struct demo_person {
	const char	*local;		/* before @demo.jamb.test */
	const char	*name;
	const char	*slug;		/* author page, staff only */
	const char	*role;
	const char	*bio;
	int		 tier;		/* index in demo_tiers, -1 none */
	const char	*interval;	/* "month" or "year" when paying */
};

static const struct demo_person people[] = {
	{ "owner", "Ines Calloway", "ines-calloway", "owner",
	    "Writer and walker. Ines writes Tideline, a newsletter and "
	    "podcast about coasts, birds and the writing life.", -1, NULL },
	{ "editor", "Tomas Reyes", "tomas-reyes", "editor",
	    "Tomas edits Tideline and produces the podcast.", -1, NULL },
	{ "author", "Priya Natarajan", "priya-natarajan", "author",
	    "Priya writes the monthly field notes and the reading lists.",
	    -1, NULL },
	{ "hannah.brooks", "Hannah Brooks", NULL, "member", NULL, -1, NULL },
	{ "malik.osei", "Malik Osei", NULL, "member", NULL, -1, NULL },
	{ "sofia.marchetti", "Sofia Marchetti", NULL, "member", NULL, -1,
	    NULL },
	{ "daniel.kim", "Daniel Kim", NULL, "member", NULL, 1, "month" },
	{ "aoife.byrne", "Aoife Byrne", NULL, "member", NULL, 1, "month" },
	{ "lukas.meyer", "Lukas Meyer", NULL, "member", NULL, 2, "month" },
	{ "yara.haddad", "Yara Haddad", NULL, "member", NULL, 1, "year" },
	{ "noah.fischer", "Noah Fischer", NULL, "member", NULL, 2, "year" },
};

#define DEMO_OWNER	0
#define DEMO_EDITOR	1
#define DEMO_AUTHOR	2

struct demo_tier {
	const char	*slug;
	const char	*name;
	const char	*description;
	const char	*benefits;
	int		 paid;
	int64_t		 monthly;	/* EUR cents */
	int64_t		 yearly;
};

static const struct demo_tier demo_tiers[] = {
	{ "free", "Free", "The newsletter every other Sunday.",
	    "Public essays and field notes\nThe podcast's main feed", 0, 0,
	    0 },
	{ "supporter", "Supporter", "Keeps Tideline independent and "
	    "ad-free.", "Every essay, including the members' archive\n"
	    "Monthly field notes\nComments", 1, 500, 5000 },
	{ "patron", "Patron", "For readers who want everything, and a "
	    "postcard from the coast every season.", "Everything in "
	    "Supporter\nBonus podcast episodes\nA postcard every season",
	    1, 1500, 15000 },
};

#define TIER_PATRON	2

static const char *const demo_tags[][3] = {
	{ "essays", "Essays", "The long pieces." },
	{ "podcast", "Podcast", "Episode notes and transcripts." },
	{ "field-notes", "Field notes", "What was seen, where, and when." },
	{ "tides", "Tides", NULL },
	{ "birds", "Birds", "Waders, gulls, and the occasional rarity." },
	{ "walking", "Walking", NULL },
	{ "reading-list", "Reading list", "Books worth carrying." },
	{ "craft", "Craft", "On writing, editing and making things." },
	{ "interviews", "Interviews", NULL },
	{ "letters", "Letters", "Replies to readers." },
	{ "seasons", "Seasons", NULL },
	{ "behind-the-scenes", "Behind the scenes", "How Tideline is made." },
};

#define TAG_PODCAST	1

/* Appends a template expanded with words drawn from r. */
static void
expand(struct buf *b, struct rng *r, const char *t)
{
	const char	*w;

	for (; *t != '\0'; t++) {
		if (*t != '%' || t[1] == '\0') {
			buf_addc(b, *t);
			continue;
		}
		switch (*++t) {
		case 'a':
		case 'A':
			w = PICK(r, adjectives);
			break;
		case 'n':
		case 'N':
			w = PICK(r, nouns);
			break;
		case 'p':
			w = PICK(r, places);
			break;
		case 'x':
			w = PICK(r, abstracts);
			break;
		case 's':
			w = PICK(r, seasons);
			break;
		case 'g':
			w = PICK(r, gerunds);
			break;
		default:
			w = "%";
			break;
		}
		if (*t == 'A' || *t == 'N')
			buf_adds(b, strchr("aeiou", *w) != NULL ? "an " :
			    "a ");
		buf_adds(b, w);
	}
}

/* Like expand, with the first letter of the result in upper case. */
static void
expand_cap(struct buf *b, struct rng *r, const char *t)
{
	size_t	 at = b->len;

	expand(b, r, t);
	if (at < b->len)
		b->data[at] = (char)toupper((unsigned char)b->data[at]);
}

/* One generated post of the demo site, before it has an id. */
struct demo_post {
	struct buf	 title;
	struct buf	 excerpt;
	struct buf	 md;
	char		*slug;
	char		*html;
	const char	*status;
	const char	*visibility;
	time_t		 created;
	time_t		 published;	/* 0: not published */
	time_t		 scheduled;	/* 0: not scheduled */
	int		 authors[2];	/* indexes in people[], -1 unused */
	int		 tags[3];	/* indexes in demo_tags, -1 unused */
	int		 episode;	/* podcast episode number, or 0 */
};

struct demo {
	const char		*hash;
	time_t			 today;		/* 00:00 UTC */
	struct rng		 rng;
	int64_t			 user_ids[NELEM(people)];
	char			 customers[NELEM(people)][32];
	int64_t			 tier_ids[NELEM(demo_tiers)];
	int64_t			 tag_ids[NELEM(demo_tags)];
	char			*slugs[DEMO_POSTS];
	size_t			 nslugs;
	time_t			 joined[NELEM(people)];
	int			 episodes;
	int			 subscriptions;
	int			 visibility[4];
	int			 post_vis[DEMO_POSTS];
	const char		*step;		/* what failed */
};

static const char *const visibilities[] = {
	"public", "members", "paid", "tiers",
};

/* "YYYY-MM-DD hh:mm:ss" in UTC, or NULL (SQL NULL) for 0. */
static const char *
sql_time(char *s, size_t len, time_t t)
{
	struct tm	 tm;

	if (t == 0)
		return NULL;
	gmtime_r(&t, &tm);
	strftime(s, len, "%Y-%m-%d %H:%M:%S", &tm);
	return s;
}

/*
 * A slug from a title: ASCII letters and digits in lower case, other
 * runs of characters as one '-', at most SLUG_MAX bytes, cut at a '-'.
 */
static char *
slugify(const char *title)
{
	char	*s = xmalloc(strlen(title) + 1), *cut;
	size_t	 n = 0;

	for (; *title != '\0'; title++) {
		if (isascii((unsigned char)*title) &&
		    isalnum((unsigned char)*title))
			s[n++] = (char)tolower((unsigned char)*title);
		else if (n > 0 && s[n - 1] != '-')
			s[n++] = '-';
	}
	while (n > 0 && s[n - 1] == '-')
		n--;
	s[n] = '\0';
	if (n > SLUG_MAX) {
		s[SLUG_MAX] = '\0';
		if ((cut = strrchr(s, '-')) != NULL && cut > s)
			*cut = '\0';
	}
	if (*s == '\0') {
		free(s);
		s = xstrdup("post");
	}
	return s;
}

/* A slug not used by an earlier demo post: title-slug, -2, -3 ... */
static char *
demo_slug(struct demo *d, const char *title)
{
	char	*base = slugify(title), *s = xstrdup(base);
	size_t	 i;
	int	 n = 1;

again:
	for (i = 0; i < d->nslugs; i++)
		if (strcmp(d->slugs[i], s) == 0) {
			free(s);
			s = xasprintf("%s-%d", base, ++n);
			goto again;
		}
	free(base);
	d->slugs[d->nslugs++] = s;
	return s;
}

static void
demo_paragraph(struct rng *r, struct buf *md, int nsentences)
{
	int	 i;

	for (i = 0; i < nsentences; i++) {
		if (i > 0)
			buf_addc(md, ' ');
		expand(md, r, PICK(r, sentences));
	}
	buf_adds(md, "\n\n");
}

static void
demo_list(struct rng *r, struct buf *md)
{
	int	 i, n = (int)rng_range(r, 3, 5);

	expand(md, r, PICK(r, list_intros));
	buf_adds(md, "\n\n");
	for (i = 0; i < n; i++) {
		buf_adds(md, "- ");
		expand_cap(md, r, PICK(r, list_items));
		buf_addc(md, '\n');
	}
	buf_addc(md, '\n');
}

static void
demo_link(struct rng *r, struct buf *md)
{
	const char	*noun = PICK(r, nouns);

	switch (rng_below(r, 3)) {
	case 0:
		buf_printf(md, "There is more about the %s in [this field "
		    "guide](https://example.org/field-guide/%s), which I "
		    "keep going back to.\n\n", noun, noun);
		break;
	case 1:
		buf_printf(md, "If you want to see the place for yourself, "
		    "the [tide tables](https://example.org/tides?station=%s) "
		    "are the first thing to check.\n\n", noun);
		break;
	default:
		buf_printf(md, "I wrote about the %s before, in [an older "
		    "letter](https://example.com/archive/%s); it has aged "
		    "better than I expected.\n\n", noun, noun);
		break;
	}
}

/*
 * The Markdown body: paragraphs of varying number and length, one
 * heading, one list and one link, and a player link for episodes.  The
 * excerpt is the body's first sentence.
 */
static void
demo_body(struct rng *r, struct demo_post *p)
{
	int	 i, n = (int)rng_range(r, 3, 8);
	int	 heading = (int)rng_range(r, 1, (uint32_t)n - 1);
	int	 list = (int)rng_range(r, 1, (uint32_t)n - 1);
	int	 link = (int)rng_below(r, (size_t)n);

	expand(&p->excerpt, r, PICK(r, sentences));
	buf_add(&p->md, p->excerpt.data, p->excerpt.len);
	buf_addc(&p->md, ' ');
	demo_paragraph(r, &p->md, (int)rng_range(r, 1, 4));
	if (p->episode > 0)
		buf_printf(&p->md, "Listen to [episode %d](https://media."
		    "example.org/tideline/episode-%03d.mp3) here or wherever "
		    "you get your podcasts.\n\n", p->episode, p->episode);
	for (i = 1; i < n; i++) {
		if (i == heading) {
			buf_adds(&p->md, "## ");
			expand_cap(&p->md, r, PICK(r, headings));
			buf_adds(&p->md, "\n\n");
		}
		if (i == list)
			demo_list(r, &p->md);
		if (i == link)
			demo_link(r, &p->md);
		demo_paragraph(r, &p->md, (int)rng_range(r, 2, 6));
	}
	if (link == 0)
		demo_link(r, &p->md);
	/* One newline at the end, not the paragraph break. */
	p->md.data[--p->md.len] = '\0';
}

/* Who wrote it: mostly the owner, sometimes the others, a few pairs. */
static void
demo_authors(struct rng *r, struct demo_post *p)
{
	uint32_t	 k = rng_below(r, 100);

	p->authors[1] = -1;
	if (k < 60)
		p->authors[0] = DEMO_OWNER;
	else if (k < 85)
		p->authors[0] = DEMO_AUTHOR;
	else if (k < 95)
		p->authors[0] = DEMO_EDITOR;
	else {
		p->authors[0] = DEMO_OWNER;
		p->authors[1] = k < 98 ? DEMO_AUTHOR : DEMO_EDITOR;
	}
}

/* One to three different tags; episodes always have the podcast tag. */
static void
demo_tags_of(struct rng *r, struct demo_post *p)
{
	int	 i, j, n = (int)rng_range(r, 1, 3), t;

	for (i = 0; i < 3; i++)
		p->tags[i] = -1;
	if (p->episode > 0)
		p->tags[0] = TAG_PODCAST;
	for (i = p->episode > 0 ? 1 : 0; i < n; i++) {
		do {
			t = (int)rng_below(r, NELEM(demo_tags));
			for (j = 0; j < i && p->tags[j] != t; j++)
				continue;
		} while (j < i || (t == TAG_PODCAST && p->episode == 0));
		p->tags[i] = t;
	}
}

/*
 * Deals the visibilities out to the posts in a shuffled order: 70 %
 * public, 15 % for members, 10 % paid and 5 % for tiers exactly.
 */
static void
demo_deal_visibility(struct demo *d)
{
	static const int shares[] = { 70, 15, 10, 5 };
	int		 i, j, v, n = 0, tmp;

	for (v = 0; v < 4; v++) {
		for (i = 0; i < DEMO_POSTS * shares[v] / 100; i++)
			d->post_vis[n++] = v;
		d->visibility[v] = DEMO_POSTS * shares[v] / 100;
	}
	for (i = DEMO_POSTS - 1; i > 0; i--) {
		j = (int)rng_below(&d->rng, (size_t)i + 1);
		tmp = d->post_vis[i];
		d->post_vis[i] = d->post_vis[j];
		d->post_vis[j] = tmp;
	}
}

/*
 * Post i of the demo, oldest first: the published ones spread over the
 * last two years at newsletter hours, then the scheduled ones (in the
 * coming days), the ones in review and the drafts (all recent).
 */
static void
demo_times(struct demo *d, int i, struct demo_post *p)
{
	struct rng	*r = &d->rng;
	time_t		 span = 730 * (time_t)DAY;

	if (i < DEMO_PUBLISHED) {
		p->status = "published";
		p->published = d->today - span + (time_t)i * span /
		    DEMO_PUBLISHED / DAY * DAY + (time_t)rng_range(r, 6, 9) *
		    3600 + (time_t)rng_below(r, 3600);
		p->created = p->published - (time_t)rng_range(r, 3600,
		    5 * DAY);
		return;
	}
	i -= DEMO_PUBLISHED;
	p->created = d->today - (time_t)rng_range(r, 1, 20) * DAY +
	    (time_t)rng_below(r, DAY);
	if (i < DEMO_SCHEDULED) {
		p->status = "scheduled";
		p->scheduled = d->today + (time_t)(i + 1) * DAY + 7 * 3600;
	} else if (i < DEMO_SCHEDULED + DEMO_REVIEW)
		p->status = "review";
	else
		p->status = "draft";
}

static void
demo_compose(struct demo *d, int i, struct demo_post *p)
{
	struct rng	*r = &d->rng;

	memset(p, 0, sizeof(*p));
	buf_init(&p->title);
	buf_init(&p->excerpt);
	buf_init(&p->md);
	demo_times(d, i, p);
	/* About one published post in four is a podcast episode. */
	if (i < DEMO_PUBLISHED && rng_below(r, 4) == 0)
		p->episode = ++d->episodes;
	if (p->episode > 0)
		buf_printf(&p->title, "Episode %d: ", p->episode);
	expand_cap(&p->title, r, PICK(r, titles));
	p->slug = demo_slug(d, p->title.data);
	demo_body(r, p);
	p->html = markdown_html(p->md.data, p->md.len);
	p->visibility = visibilities[d->post_vis[i]];
	demo_authors(r, p);
	demo_tags_of(r, p);
}

static void
demo_post_free(struct demo_post *p)
{
	buf_free(&p->title);
	buf_free(&p->excerpt);
	buf_free(&p->md);
	free(p->html);
}

static enum jamb_status
demo_users(struct db_conn *db, struct demo *d)
{
	const struct demo_person *u;
	char			 email[128], *cus, at[32];
	size_t			 i;
	time_t			 joined;
	enum jamb_status	 st;

	d->step = "users";
	for (i = 0; i < NELEM(people); i++) {
		u = &people[i];
		snprintf(email, sizeof(email), "%s@%s", u->local, DEMO_DOMAIN);
		cus = d->customers[i];
		snprintf(cus, sizeof(d->customers[i]), "cus_demo_%08llx",
		    (unsigned long long)(rng_next(&d->rng) >> 32));
		joined = d->today - 760 * DAY + (time_t)i * 60 * DAY +
		    (time_t)rng_below(&d->rng, DAY);
		d->joined[i] = joined;
		st = db_exec(db, "INSERT INTO users (email, email_verified_at,"
		    " password_hash, name, slug, bio, role, stripe_customer_id,"
		    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
		    " ?, ?)", "sssssssstt", email,
		    sql_time(at, sizeof(at), joined + 300), d->hash, u->name,
		    u->slug, u->bio, u->role, u->tier > 0 ? cus : NULL,
		    joined, joined);
		if (st != JAMB_OK)
			return st;
		d->user_ids[i] = (int64_t)db_insert_id(db);
	}
	return JAMB_OK;
}

static enum jamb_status
demo_tiers_insert(struct db_conn *db, struct demo *d)
{
	const struct demo_tier	*t;
	char			*product, *monthly, *yearly;
	size_t			 i;
	enum jamb_status	 st = JAMB_OK;

	d->step = "tiers";
	for (i = 0; i < NELEM(demo_tiers) && st == JAMB_OK; i++) {
		t = &demo_tiers[i];
		product = xasprintf("prod_demo_%s", t->slug);
		monthly = xasprintf("price_demo_%s_monthly", t->slug);
		yearly = xasprintf("price_demo_%s_yearly", t->slug);
		if (t->paid)
			st = db_exec(db, "INSERT INTO tiers (slug, name, "
			    "description, benefits, kind, currency, "
			    "monthly_amount, yearly_amount, stripe_product_id,"
			    " stripe_monthly_price_id, stripe_yearly_price_id,"
			    " position, created_at, updated_at) VALUES (?, ?,"
			    " ?, ?, 'paid', 'EUR', ?, ?, ?, ?, ?, ?, ?, ?)",
			    "ssssiisssitt", t->slug, t->name, t->description,
			    t->benefits, t->monthly, t->yearly, product,
			    monthly, yearly, (int64_t)i, d->joined[0] + DAY,
			    d->joined[0] + DAY);
		else
			st = db_exec(db, "INSERT INTO tiers (slug, name, "
			    "description, benefits, kind, position, "
			    "created_at, updated_at) VALUES (?, ?, ?, ?, "
			    "'free', ?, ?, ?)", "ssssitt", t->slug, t->name,
			    t->description, t->benefits, (int64_t)i,
			    d->joined[0] + DAY, d->joined[0] + DAY);
		d->tier_ids[i] = (int64_t)db_insert_id(db);
		free(product);
		free(monthly);
		free(yearly);
	}
	return st;
}

/* The paying members' subscriptions, as Stripe's webhooks left them. */
static enum jamb_status
demo_subscriptions(struct db_conn *db, struct demo *d)
{
	const struct demo_person *u;
	char			 sub[32];
	size_t			 i;
	time_t			 start, end;
	int			 yearly;
	enum jamb_status	 st;

	d->step = "subscriptions";
	for (i = 0; i < NELEM(people); i++) {
		u = &people[i];
		if (u->tier <= 0)
			continue;
		yearly = strcmp(u->interval, "year") == 0;
		snprintf(sub, sizeof(sub), "sub_demo_%08llx%04x",
		    (unsigned long long)(rng_next(&d->rng) >> 32),
		    (unsigned)i);
		/* The current period: the last renewal, the next one. */
		end = d->today + (time_t)rng_range(&d->rng, 3,
		    yearly ? 300 : 27) * DAY;
		start = end - (yearly ? 365 : 30) * (time_t)DAY;
		st = db_exec(db, "INSERT INTO subscriptions (user_id, tier_id,"
		    " provider, provider_subscription_id, provider_customer_id,"
		    " status, billing_interval, current_period_end,"
		    " provider_updated_at, created_at) VALUES (?, ?, 'stripe',"
		    " ?, ?, 'active', ?, ?, ?, ?)", "iisssttt", d->user_ids[i],
		    d->tier_ids[u->tier], sub, d->customers[i], u->interval,
		    end, start, d->joined[i] + 600);
		if (st != JAMB_OK)
			return st;
		d->subscriptions++;
	}
	return JAMB_OK;
}

static enum jamb_status
demo_tags_insert(struct db_conn *db, struct demo *d)
{
	size_t			 i;
	enum jamb_status	 st;

	d->step = "tags";
	for (i = 0; i < NELEM(demo_tags); i++) {
		st = db_exec(db, "INSERT INTO tags (slug, name, description, "
		    "created_at) VALUES (?, ?, ?, ?)", "ssst", demo_tags[i][0],
		    demo_tags[i][1], demo_tags[i][2], d->joined[0] + DAY);
		if (st != JAMB_OK)
			return st;
		d->tag_ids[i] = (int64_t)db_insert_id(db);
	}
	return JAMB_OK;
}

/* The rows that hang off a post: authors, tags, tiers, one revision. */
static enum jamb_status
demo_post_links(struct db_conn *db, struct demo *d,
    const struct demo_post *p, int64_t id)
{
	enum jamb_status st = JAMB_OK;
	int		 i;

	for (i = 0; i < 2 && p->authors[i] >= 0 && st == JAMB_OK; i++)
		st = db_exec(db, "INSERT INTO post_authors (post_id, user_id,"
		    " position) VALUES (?, ?, ?)", "iii", id,
		    d->user_ids[p->authors[i]], (int64_t)i);
	for (i = 0; i < 3 && p->tags[i] >= 0 && st == JAMB_OK; i++)
		st = db_exec(db, "INSERT INTO post_tags (post_id, tag_id) "
		    "VALUES (?, ?)", "ii", id, d->tag_ids[p->tags[i]]);
	if (st == JAMB_OK && strcmp(p->visibility, "tiers") == 0)
		st = db_exec(db, "INSERT INTO post_tiers (post_id, tier_id) "
		    "VALUES (?, ?)", "ii", id, d->tier_ids[TIER_PATRON]);
	if (st == JAMB_OK)
		st = db_exec(db, "INSERT INTO post_revisions (post_id, "
		    "post_version, author_id, created_at, title, excerpt, "
		    "body_md) VALUES (?, 1, ?, ?, ?, ?, ?)", "iitsss", id,
		    d->user_ids[p->authors[0]], p->created, p->title.data,
		    p->excerpt.data, p->md.data);
	return st;
}

static enum jamb_status
demo_post_insert(struct db_conn *db, struct demo *d,
    const struct demo_post *p)
{
	char			 pub[32], sched[32];
	time_t			 updated;
	enum jamb_status	 st;

	updated = p->published != 0 ? p->published : p->created;
	st = db_exec(db, "INSERT INTO posts (slug, title, excerpt, body_md,"
	    " body_html, status, visibility, published_at, scheduled_at,"
	    " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?)", "sssssssssitt", p->slug, p->title.data,
	    p->excerpt.data, p->md.data, p->html, p->status, p->visibility,
	    sql_time(pub, sizeof(pub), p->published),
	    sql_time(sched, sizeof(sched), p->scheduled),
	    d->user_ids[p->authors[0]], p->created, updated);
	if (st != JAMB_OK)
		return st;
	return demo_post_links(db, d, p, (int64_t)db_insert_id(db));
}

static enum jamb_status
demo_posts(struct db_conn *db, struct demo *d)
{
	struct demo_post	 p;
	int			 i;
	enum jamb_status	 st = JAMB_OK;

	d->step = "posts";
	for (i = 0; i < DEMO_POSTS && st == JAMB_OK; i++) {
		demo_compose(d, i, &p);
		st = demo_post_insert(db, d, &p);
		demo_post_free(&p);
	}
	return st;
}

static void
demo_reset(struct demo *d)
{
	size_t	 i;

	for (i = 0; i < d->nslugs; i++)
		free(d->slugs[i]);
	d->nslugs = 0;
	d->episodes = 0;
	d->subscriptions = 0;
	d->rng.s = DEMO_SEED;
	demo_deal_visibility(d);
}

/* The whole demo site; run again from the start after a deadlock. */
static enum jamb_status
demo_load(struct db_conn *db, void *arg)
{
	struct demo		*d = arg;
	enum jamb_status	 st;

	demo_reset(d);
	if ((st = demo_users(db, d)) != JAMB_OK ||
	    (st = demo_tiers_insert(db, d)) != JAMB_OK ||
	    (st = demo_subscriptions(db, d)) != JAMB_OK ||
	    (st = demo_tags_insert(db, d)) != JAMB_OK ||
	    (st = demo_posts(db, d)) != JAMB_OK)
		return st;
	return JAMB_OK;
}

/* 16 letters and digits from the system's random source. */
static void
random_password(char *out)
{
	static const char	 set[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	    "abcdefghijkmnopqrstuvwxyz23456789";
	unsigned char		 b;
	size_t			 n = 0, k = sizeof(set) - 1;

	/* Rejection sampling keeps every character equally likely. */
	while (n < PASSWORD_LEN) {
		random_bytes(&b, 1);
		if (b < 256 / k * k)
			out[n++] = set[b % k];
	}
	out[n] = '\0';
}

/* Fails (with the reason printed) unless there are no users or posts. */
static int
demo_database_empty(struct db_conn *db)
{
	int64_t		 users = 0, posts = 0;

	if (db_query_int(db, &users, "SELECT COUNT(*) FROM users", "") !=
	    JAMB_OK || db_query_int(db, &posts, "SELECT COUNT(*) FROM posts",
	    "") != JAMB_OK) {
		fprintf(stderr, "jamb seed demo: cannot read the database "
		    "(has `jamb migrate up` run?): %s\n", db_error(db));
		return 0;
	}
	if (users == 0 && posts == 0)
		return 1;
	fprintf(stderr, "jamb seed demo: the database already has %lld "
	    "users and %lld posts; nothing was changed.\nDemo data goes "
	    "into an empty database only: create a new database, name it "
	    "in [db] name (or JAMB_DB_NAME), run `jamb migrate up`, then "
	    "`jamb seed demo`.\n", (long long)users, (long long)posts);
	return 0;
}

static void
demo_summary(const struct demo *d, const char *password)
{
	printf("demo data loaded: %zu users (1 owner, 1 editor, 1 author, "
	    "%zu members), %zu tiers, %d subscriptions, %zu tags, %d posts "
	    "(%d published, %d scheduled, %d in review, %d drafts; %d "
	    "public, %d for members, %d paid, %d for tiers)\n",
	    NELEM(people), NELEM(people) - 3, NELEM(demo_tiers),
	    d->subscriptions, NELEM(demo_tags), DEMO_POSTS, DEMO_PUBLISHED,
	    DEMO_SCHEDULED, DEMO_REVIEW, DEMO_DRAFTS, d->visibility[0],
	    d->visibility[1], d->visibility[2], d->visibility[3]);
	printf("every demo account (owner@, editor@, author@ and the members "
	    "@%s) has the same password\n", DEMO_DOMAIN);
	printf("sign in as owner@%s with password %s\n", DEMO_DOMAIN,
	    password);
}

static int
seed_demo(const struct conf *c, const char *password)
{
	struct demo	 d;
	struct db_conn	*db;
	char		 generated[PASSWORD_LEN + 1], *hash = NULL;
	int		 rc = 1;

	memset(&d, 0, sizeof(d));
	db = db_new(c);
	if (!demo_database_empty(db))
		goto out;
	if (password == NULL) {
		random_password(generated);
		password = generated;
	}
	/* Argon2id is slow on purpose: one hash serves every account. */
	if (password_hash(c, password, &hash) != JAMB_OK) {
		fprintf(stderr, "jamb seed demo: cannot hash the password\n");
		goto out;
	}
	d.hash = hash;
	d.today = time(NULL) / DAY * DAY;
	if (db_tx(db, demo_load, &d) != JAMB_OK) {
		fprintf(stderr, "jamb seed demo: inserting %s failed, nothing "
		    "was loaded: %s\n", d.step, db_error(db));
		goto out;
	}
	demo_summary(&d, password);
	rc = 0;
out:
	demo_reset(&d);
	free(hash);
	db_free(db);
	return rc;
}

/*
 * Bulk posts for benchmarks: short bodies from one word list, rendered
 * by libcmark like any post.  That costs about 4 us a post, a few
 * percent of the time the server takes to store it (over 100 us), so a
 * template would save little.
 *
 * Rows travel to the server as one JSON document per statement, read by
 * JSON_TABLE (MySQL 8, MariaDB 10.6): db_exec takes a fixed argument
 * list, and one parameter per batch keeps each batch one prepared
 * statement.  Batches commit together every BULK_TX_ROWS rows.
 */
#define BULK_ROWS	1000
#define BULK_TX_ROWS	20000
#define BULK_MAX	100000000LL
#define BULK_YEARS	5

static const char *const bulk_words[] = {
	"tide", "harbour", "light", "salt", "wind", "stone", "shore",
	"river", "season", "letter", "walk", "reading", "craft", "notes",
	"morning", "winter", "marsh", "fog", "heron", "ferry", "island",
	"evening", "boat", "map", "kettle", "gull", "summer", "rain",
	"paper", "window", "garden", "bridge", "silence", "story", "road",
	"north", "south", "quiet", "bright", "slow", "early", "late",
	"small", "long", "open", "green", "grey", "cold", "warm", "old",
	"new", "wild", "still", "far", "near", "under", "over", "after",
	"before", "between", "with", "without", "along", "across",
	"writes", "waits", "turns", "listens", "carries", "remembers",
	"finds", "keeps", "leaves", "returns", "watches", "counts",
};

struct bulk {
	int64_t			 first;		/* number of the first slug */
	int64_t			 total;
	int64_t			 done;		/* committed */
	int64_t			 pending;	/* in the open transaction */
	int64_t			*authors;
	size_t			 nauthors;
	int64_t			*tags;
	size_t			 ntags;
	int64_t			 post_tags;
	struct rng		 rng;
	time_t			 now;
	int64_t			 started_us;
	int64_t			 shown_us;
	int			 progress;
};

static void
bulk_words_add(struct bulk *b, struct buf *out, int n, int capital)
{
	const char	*w;
	int		 i;

	for (i = 0; i < n; i++) {
		w = PICK(&b->rng, bulk_words);
		if (i > 0)
			buf_addc(out, ' ');
		if (i == 0 && capital) {
			buf_addc(out, (char)toupper((unsigned char)*w));
			w++;
		}
		buf_adds(out, w);
	}
}

static void
bulk_sentences(struct bulk *b, struct buf *out, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ' ');
		bulk_words_add(b, out, (int)rng_range(&b->rng, 8, 11), 1);
		buf_addc(out, '.');
	}
}

/*
 * One post's Markdown: an optional heading, then three paragraphs, 300
 * to 650 bytes in all.
 */
static void
bulk_body(struct bulk *b, struct buf *md)
{
	int	 i;

	if (rng_below(&b->rng, 2) == 0) {
		buf_adds(md, "## ");
		bulk_words_add(b, md, (int)rng_range(&b->rng, 2, 4), 1);
		buf_adds(md, "\n\n");
	}
	for (i = 0; i < 3; i++) {
		if (i > 0)
			buf_adds(md, "\n\n");
		bulk_sentences(b, md, (int)rng_range(&b->rng, 2, 3));
	}
	buf_addc(md, '\n');
}

/* Scratch space for one row, reused across rows. */
struct bulk_row {
	struct buf	 title;
	struct buf	 excerpt;
	struct buf	 md;
};

/*
 * Appends post number n to the batch documents: its row to posts, its
 * slug to slugs (for post_authors) and a [slug, tag id] pair per tag to
 * links.
 */
static void
bulk_row(struct bulk *b, int64_t n, struct bulk_row *w, json_t *posts,
    json_t *slugs, json_t *links)
{
	char		 slug[32], at[32];
	uint32_t	 k = rng_below(&b->rng, 100);
	time_t		 t;
	size_t		 i, ntags;
	json_t		*author;
	char		*html;

	buf_reset(&w->title);
	buf_reset(&w->excerpt);
	buf_reset(&w->md);
	snprintf(slug, sizeof(slug), "bulk-%lld", (long long)n);
	bulk_words_add(b, &w->title, (int)rng_range(&b->rng, 3, 7), 1);
	bulk_sentences(b, &w->excerpt, 1);
	bulk_body(b, &w->md);
	html = markdown_html(w->md.data, w->md.len);
	t = b->now - 3600 - (time_t)(rng_next(&b->rng) %
	    (uint64_t)(BULK_YEARS * 365 * (int64_t)DAY));
	author = b->nauthors == 0 ? json_null() : json_integer(
	    b->authors[rng_below(&b->rng, b->nauthors)]);

	json_array_append_new(posts, json_pack("[sssssssO]", slug,
	    w->title.data, w->excerpt.data, w->md.data, html,
	    k < 85 ? "public" : k < 95 ? "members" : "paid",
	    sql_time(at, sizeof(at), t), author));
	json_decref(author);
	free(html);
	json_array_append_new(slugs, json_string(slug));
	ntags = b->ntags == 0 ? 0 : rng_range(&b->rng, 1,
	    b->ntags < 2 ? 1 : 2);
	for (i = 0; i < ntags; i++)
		json_array_append_new(links, json_pack("[sI]", slug,
		    (json_int_t)b->tags[(n + (int64_t)i) %
		    (int64_t)b->ntags]));
	b->post_tags += (int64_t)ntags;
}

static enum jamb_status
bulk_send(struct db_conn *db, const char *posts, const char *slugs,
    const char *links)
{
	enum jamb_status st;

	st = db_exec(db, "INSERT INTO posts (slug, title, excerpt, body_md,"
	    " body_html, status, visibility, published_at, created_by,"
	    " created_at, updated_at) SELECT j.slug, j.title, j.excerpt,"
	    " j.body_md, j.body_html, 'published', j.visibility,"
	    " j.published_at, j.author, j.published_at, j.published_at"
	    " FROM JSON_TABLE(?, '$[*]' COLUMNS ("
	    "slug VARCHAR(200) PATH '$[0]', title VARCHAR(500) PATH '$[1]',"
	    " excerpt TEXT PATH '$[2]', body_md MEDIUMTEXT PATH '$[3]',"
	    " body_html MEDIUMTEXT PATH '$[4]',"
	    " visibility VARCHAR(16) PATH '$[5]',"
	    " published_at DATETIME PATH '$[6]',"
	    " author BIGINT UNSIGNED PATH '$[7]')) AS j", "s", posts);
	if (st != JAMB_OK)
		return st;
	st = db_exec(db, "INSERT INTO post_authors (post_id, user_id) "
	    "SELECT p.id, p.created_by FROM JSON_TABLE(?, '$[*]' COLUMNS ("
	    "slug VARCHAR(200) PATH '$')) AS j JOIN posts p ON p.slug = "
	    "j.slug WHERE p.created_by IS NOT NULL", "s", slugs);
	if (st != JAMB_OK)
		return st;
	return db_exec(db, "INSERT INTO post_tags (post_id, tag_id) "
	    "SELECT p.id, j.tag_id FROM JSON_TABLE(?, '$[*]' COLUMNS ("
	    "slug VARCHAR(200) PATH '$[0]', tag_id BIGINT UNSIGNED PATH "
	    "'$[1]')) AS j JOIN posts p ON p.slug = j.slug", "s", links);
}

/* Builds and sends one batch of n posts, numbered from b->first + done. */
static enum jamb_status
bulk_batch(struct db_conn *db, struct bulk *b, struct bulk_row *w,
    int64_t n)
{
	json_t		*posts = json_array(), *slugs = json_array();
	json_t		*links = json_array();
	char		*p, *s, *l;
	int64_t		 i, base = b->first + b->done + b->pending;
	enum jamb_status st;

	for (i = 0; i < n; i++)
		bulk_row(b, base + i, w, posts, slugs, links);
	p = json_dumps(posts, JSON_COMPACT);
	s = json_dumps(slugs, JSON_COMPACT);
	l = json_dumps(links, JSON_COMPACT);
	if (p == NULL || s == NULL || l == NULL)
		abort();
	st = bulk_send(db, p, s, l);
	free(p);
	free(s);
	free(l);
	json_decref(posts);
	json_decref(slugs);
	json_decref(links);
	return st;
}

static void
bulk_progress(struct bulk *b, int last)
{
	int64_t	 now = clock_us(), n = b->done + b->pending;
	double	 secs = (double)(now - b->started_us) / 1e6;

	if (!b->progress || (!last && now - b->shown_us < 250000))
		return;
	b->shown_us = now;
	fprintf(stderr, "\rjamb seed bulk: %lld of %lld posts (%d%%), "
	    "%.0f posts/s ", (long long)n, (long long)b->total,
	    (int)(100 * n / b->total), secs > 0 ? (double)n / secs : 0.0);
	if (last)
		fputc('\n', stderr);
}

/*
 * One transaction of up to BULK_TX_ROWS posts.  A deadlock reruns it
 * from the same generator state, so the rerun makes the same rows.
 */
static enum jamb_status
bulk_tx(struct db_conn *db, void *arg)
{
	struct bulk	*b = arg;
	struct bulk_row	 w;
	struct rng	 saved = b->rng;
	int64_t		 left, tags = b->post_tags, n;
	enum jamb_status st = JAMB_OK;

	memset(&w, 0, sizeof(w));
	buf_init(&w.title);
	buf_init(&w.excerpt);
	buf_init(&w.md);
	b->pending = 0;
	left = b->total - b->done;
	if (left > BULK_TX_ROWS)
		left = BULK_TX_ROWS;
	while (b->pending < left && st == JAMB_OK) {
		n = left - b->pending < BULK_ROWS ? left - b->pending :
		    BULK_ROWS;
		if ((st = bulk_batch(db, b, &w, n)) == JAMB_OK)
			b->pending += n;
		bulk_progress(b, 0);
	}
	if (st != JAMB_OK) {
		b->rng = saved;
		b->post_tags = tags;
		b->pending = 0;
	}
	buf_free(&w.title);
	buf_free(&w.excerpt);
	buf_free(&w.md);
	return st;
}

/* The column's integers of every row, in a new array. */
static enum jamb_status
bulk_ids(struct db_conn *db, const char *sql, int64_t **out, size_t *n)
{
	struct db_rows	*r;
	enum jamb_status st;

	*out = NULL;
	*n = 0;
	if ((st = db_query(db, &r, sql, "")) != JAMB_OK)
		return st;
	while (db_next(r)) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = db_int(r, 0);
	}
	db_rows_free(r);
	return JAMB_OK;
}

/*
 * What the bulk posts refer to: the staff as authors, the site's tags
 * (the demo's tags when there are none), and the number after the
 * highest existing bulk-N slug, so that runs add up without collisions.
 */
static enum jamb_status
bulk_prepare(struct db_conn *db, struct bulk *b)
{
	enum jamb_status st;
	size_t		 i;

	st = bulk_ids(db, "SELECT id FROM users WHERE role IN ('owner', "
	    "'admin', 'editor', 'author') AND deleted_at IS NULL ORDER BY "
	    "id LIMIT 16", &b->authors, &b->nauthors);
	if (st != JAMB_OK)
		return st;
	st = bulk_ids(db, "SELECT id FROM tags ORDER BY id LIMIT 50",
	    &b->tags, &b->ntags);
	for (i = 0; st == JAMB_OK && b->ntags == 0 && i < NELEM(demo_tags);
	    i++)
		st = db_exec(db, "INSERT INTO tags (slug, name, description) "
		    "VALUES (?, ?, ?)", "sss", demo_tags[i][0],
		    demo_tags[i][1], demo_tags[i][2]);
	if (st == JAMB_OK && b->ntags == 0)
		st = bulk_ids(db, "SELECT id FROM tags ORDER BY id LIMIT 50",
		    &b->tags, &b->ntags);
	if (st != JAMB_OK)
		return st;
	st = db_query_int(db, &b->first, "SELECT COALESCE(MAX(CAST("
	    "SUBSTRING(slug, 6) AS UNSIGNED)), 0) FROM posts WHERE slug "
	    "LIKE 'bulk-%' AND slug REGEXP '^bulk-[0-9]+$'", "");
	b->first++;
	return st;
}

/* A whole number from 1 to BULK_MAX, or -1. */
static int64_t
bulk_count(const char *s)
{
	int64_t		 n = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
		if (n > BULK_MAX)
			return -1;
	}
	return n > 0 ? n : -1;
}

static int
seed_bulk(const struct conf *c, const char *count)
{
	struct bulk	 b;
	struct db_conn	*db;
	double		 secs;
	int		 rc = 1;
	enum jamb_status st = JAMB_OK;

	memset(&b, 0, sizeof(b));
	if ((b.total = bulk_count(count)) < 0) {
		fprintf(stderr, "jamb seed bulk: N must be a whole number from "
		    "1 to %lld, got \"%s\"\n", BULK_MAX, count ? count : "");
		return 2;
	}
	db = db_new(c);
	if (bulk_prepare(db, &b) != JAMB_OK) {
		fprintf(stderr, "jamb seed bulk: cannot read the database "
		    "(has `jamb migrate up` run?): %s\n", db_error(db));
		goto out;
	}
	b.now = time(NULL);
	b.rng.s = DEMO_SEED ^ (uint64_t)b.first;
	b.progress = isatty(STDERR_FILENO);
	b.started_us = clock_us();
	while (b.done < b.total && st == JAMB_OK)
		if ((st = db_tx(db, bulk_tx, &b)) == JAMB_OK)
			b.done += b.pending;
	b.pending = 0;
	bulk_progress(&b, 1);
	secs = (double)(clock_us() - b.started_us) / 1e6;
	if (st != JAMB_OK) {
		fprintf(stderr, "jamb seed bulk: failed after %lld posts "
		    "(those stay): %s\n", (long long)b.done, db_error(db));
		goto out;
	}
	printf("bulk posts loaded: %lld (bulk-%lld to bulk-%lld) with %lld "
	    "tag links in %.1f s, %.0f posts/s\n", (long long)b.total,
	    (long long)b.first, (long long)(b.first + b.total - 1),
	    (long long)b.post_tags, secs, secs > 0 ?
	    (double)b.total / secs : 0.0);
	rc = 0;
out:
	free(b.authors);
	free(b.tags);
	db_free(db);
	return rc;
}

static void
seed_usage(void)
{
	fprintf(stderr, "usage: jamb seed [-c file] demo [--password P]\n"
	    "       jamb seed [-c file] bulk N\n");
}

/*
 * jamb seed demo [--password P] | bulk N.  argv[0] is the subcommand.
 * Returns the exit status: 0, 1 on failure, 2 on bad usage.
 */
int
seed_main(const struct conf *c, int argc, char **argv)
{
	const char	*password = NULL;
	int		 i;

	if (argc >= 1 && strcmp(argv[0], "bulk") == 0) {
		if (argc != 2) {
			seed_usage();
			return 2;
		}
		return seed_bulk(c, argv[1]);
	}
	if (argc < 1 || strcmp(argv[0], "demo") != 0) {
		seed_usage();
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--password") == 0 && i + 1 < argc)
			password = argv[++i];
		else if (strncmp(argv[i], "--password=", 11) == 0)
			password = argv[i] + 11;
		else {
			seed_usage();
			return 2;
		}
	}
	if (password != NULL && *password == '\0') {
		fprintf(stderr, "jamb seed demo: the password must not be "
		    "empty\n");
		return 2;
	}
	return seed_demo(c, password);
}
