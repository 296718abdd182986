/*
 * check_webui.c: unit tests of supervisor/webui.c, the web UI's pages,
 * rendered from hand-built control replies through a fake fetch callback:
 * escaping of text from jobs, runs and logs, buttons shown only with the
 * verbs the caller holds, the Run-now form from a job's params, keyset
 * paging of the history, DST flags of the schedule, errors mapped to HTTP
 * statuses, cron expressions in words and the embedded assets.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "nf_check.h"
#include "json.h"
#include "proto.h"
#include "util.h"
#include "val.h"
#include "webui.h"

/* The fake daemon: one canned reply (JSON text) or error per command. */
struct canned {
	const char	*cmd;
	const char	*json;	/* NULL: fails with code and err */
	int		 code;
	const char	*err;
};

struct fake {
	const struct canned	*replies;
	size_t			 n;
	char			 args[8][512];	/* of each call */
	const char		*cmds[8];
	size_t			 ncalls;
};

static struct nf_val *
fake_fetch(void *arg, const char *cmd, struct nf_val *args, int *code,
    char *err, size_t errlen)
{
	struct fake	*f = arg;
	struct nf_val	*v;
	char		*t, perr[256];
	size_t		 i;

	if (f->ncalls < 8) {
		t = args != NULL ? nf_json_text(args, -1) : nf_xstrdup("null");
		snprintf(f->args[f->ncalls], sizeof(f->args[0]), "%s", t);
		f->cmds[f->ncalls] = cmd;
		f->ncalls++;
		free(t);
	}
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->replies[i].cmd, cmd) != 0)
			continue;
		if (f->replies[i].json == NULL) {
			*code = f->replies[i].code;
			snprintf(err, errlen, "%s", f->replies[i].err);
			return NULL;
		}
		v = nf_json_read(f->replies[i].json,
		    strlen(f->replies[i].json), perr, sizeof(perr));
		ck_assert_msg(v != NULL, "canned %s: %s", cmd, perr);
		return v;
	}
	*code = NF_EXIT_FAILED;
	snprintf(err, errlen, "no canned reply for %s", cmd);
	return NULL;
}

/* Render path?query as alice with the canned replies; returns the status. */
static int
render(const char *path, const char *query, const struct canned *c,
    size_t n, struct fake *f, struct nf_buf *out)
{
	struct nf_webui_req	req;

	memset(f, 0, sizeof(*f));
	f->replies = c;
	f->n = n;
	memset(&req, 0, sizeof(req));
	req.path = path;
	req.query = query;
	req.user = "alice";
	req.csrf = "tok\"en";
	req.fetch = fake_fetch;
	req.arg = f;
	nf_buf_init(out);
	return nf_webui_page(&req, out);
}

#define has(b, s)	(strstr((b)->data, (s)) != NULL)

static const char job_xss[] =
    "[{\"id\": \"<script>alert(1)</script>\", \"description\": "
    "\"a & b <i>\", \"schedule\": \"0 2 * * *\", \"timezone\": \"UTC\", "
    "\"enabled\": true, \"tags\": [\"ops\", \"x\\\"y\"], "
    "\"next_fire\": 1764900000000, \"last_run\": {\"id\": 7, "
    "\"state\": \"failed\", \"finished_at\": 1764800000000}, "
    "\"running\": false, \"may\": [\"run\"]}, "
    "{\"id\": \"quiet\", \"description\": null, \"schedule\": null, "
    "\"timezone\": \"UTC\", \"enabled\": false, \"tags\": [], "
    "\"next_fire\": null, \"last_run\": null, \"running\": false, "
    "\"may\": []}]";

START_TEST(test_jobs_escaped)
{
	const struct canned	c[] = { { "jobs", job_xss, 0, NULL } };
	struct fake		f;
	struct nf_buf		b;

	ck_assert_int_eq(render("/jobs", NULL, c, 1, &f, &b), 0);
	ck_assert(!has(&b, "<script>alert"));
	ck_assert(has(&b, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert(has(&b, "a &amp; b &lt;i&gt;"));
	ck_assert(has(&b, "x&quot;y"));
	/* In a URL the id is percent-encoded. */
	ck_assert(has(&b, "href=\"/jobs/%3Cscript%3Ealert%281%29%3C%2Fscript"
	    "%3E\""));
	ck_assert(has(&b, "every day at 02:00"));
	ck_assert(has(&b, "<span class=\"state st-failed\">failed</span>"));
	ck_assert(has(&b, "<th scope=\"col\">Job</th>"));
	ck_assert(has(&b, "manual runs only"));
	ck_assert(has(&b, "never"));
	/* The csrf token is an attribute value like any other. */
	ck_assert(has(&b, "content=\"tok&quot;en\""));
	/* No inline script or style (the CSP forbids them). */
	ck_assert(!has(&b, "<script>"));
	ck_assert(!has(&b, "style="));
	ck_assert(!has(&b, "<style"));
	ck_assert(!has(&b, " onclick="));
	ck_assert(!has(&b, " onload="));
	nf_buf_free(&b);
}
END_TEST

START_TEST(test_jobs_run_button)
{
	const struct canned	c[] = { { "jobs", job_xss, 0, NULL } };
	struct fake		f;
	struct nf_buf		b;
	const char		*quiet;

	ck_assert_int_eq(render("/jobs", NULL, c, 1, &f, &b), 0);
	/* The first job (may run) has the button, "quiet" (may []) not. */
	quiet = strstr(b.data, "<tr data-job=\"quiet\"");
	ck_assert(quiet != NULL);
	ck_assert(strstr(b.data, "Run now") < quiet);
	ck_assert(strstr(quiet, "Run now") == NULL);
	ck_assert(strstr(quiet, "/enable") == NULL);
	ck_assert(has(&b, "<strong>disabled</strong>"));
	nf_buf_free(&b);
}
END_TEST

START_TEST(test_jobs_filters)
{
	const struct canned	c[] = { { "jobs", job_xss, 0, NULL } };
	struct fake		f;
	struct nf_buf		b;

	ck_assert_int_eq(render("/jobs", "search=%3Cb%3E+x&tag=ops", c, 1,
	    &f, &b), 0);
	ck_assert_str_eq(f.cmds[0], "jobs");
	ck_assert_str_eq(f.args[0], "{\"search\":\"<b> x\",\"tag\":\"ops\"}");
	/* A second, unfiltered listing gives the tag choices. */
	ck_assert_uint_eq(f.ncalls, 2);
	ck_assert(has(&b, "value=\"&lt;b&gt; x\""));
	ck_assert(has(&b, "<option selected>ops</option>"));
	ck_assert(has(&b, "<label for=\"f-search\">"));
	nf_buf_free(&b);
}
END_TEST

static const char job_show[] =
    "{\"id\": \"load\", \"description\": \"Load\", \"schedule\": "
    "\"*/15 * * * *\", \"timezone\": \"Europe/Paris\", \"enabled\": true, "
    "\"tags\": [], \"next_fire\": null, \"last_run\": null, "
    "\"running\": false, \"may\": %s, \"params\": {\"n\": 10, "
    "\"ratio\": 0.5, \"dry\": false, \"who\": \"<me>\", \"pw\": \"s3\"}, "
    "\"required_params\": [\"day\"], \"secret_params\": [\"pw\"], "
    "\"retry\": {\"attempts\": 3, \"backoff\": \"exponential\"}, "
    "\"timeout_seconds\": 60, \"overlap\": \"skip\", \"catchup\": "
    "\"latest\", \"file\": \"jobs.d/a.toml\", \"presets\": [{\"name\": "
    "\"big\", \"description\": \"<big>\", \"schedule\": null, \"params\": "
    "{\"n\": 99}}], \"steps\": [{\"name\": \"s1\", \"type\": \"exec\", "
    "\"enabled\": true, \"timeout_seconds\": 0, \"when\": \"n > 1\"}], "
    "\"next_fires\": [1764900000000]}";

START_TEST(test_job_form)
{
	struct canned	 c[] = { { "job.show", NULL, 0, NULL } };
	struct fake	 f;
	struct nf_buf	 b;
	char		*js;

	js = nf_xprintf(job_show, "[\"run\", \"enable\"]");
	c[0].json = js;
	ck_assert_int_eq(render("/jobs/load", NULL, c, 1, &f, &b), 0);
	ck_assert_str_eq(f.args[0], "{\"id\":\"load\"}");
	ck_assert(has(&b, "every 15 minutes"));
	ck_assert(has(&b, "action=\"/api/jobs/load/run\""));
	ck_assert(has(&b, "name=\"csrf\" value=\"tok&quot;en\""));
	ck_assert(has(&b, "name=\"p.n\" type=\"number\" step=\"1\" "
	    "placeholder=\"10\""));
	ck_assert(has(&b, "name=\"p.ratio\" type=\"number\" "
	    "step=\"any\""));
	ck_assert(has(&b, "<select id=\"p-dry\" name=\"p.dry\">"));
	ck_assert(has(&b, "placeholder=\"&lt;me&gt;\""));
	/* A secret's default never reaches the page. */
	ck_assert(has(&b, "name=\"p.pw\" type=\"password\" "
	    "autocomplete=\"off\">"));
	ck_assert(!has(&b, "s3"));
	ck_assert(has(&b, "name=\"p.day\" type=\"text\" required"));
	ck_assert(has(&b, "<label for=\"p-day\">day <span class=\"hint\">"
	    "(text, required)</span></label>"));
	ck_assert(has(&b, "<option>big</option>"));
	ck_assert(has(&b, "&lt;big&gt;"));
	ck_assert(has(&b, "action=\"/api/jobs/load/disable\""));
	ck_assert(has(&b, ">Disable<span class=\"sr\"> load</span></button>"));
	/* Without JavaScript, web.c redirects to next after the post. */
	ck_assert(has(&b, "name=\"next\" value=\"/runs?job=load\""));
	ck_assert(has(&b, "name=\"next\" value=\"/jobs/load\""));
	ck_assert(has(&b, "<code>n &gt; 1</code>"));
	ck_assert(has(&b, "href=\"/jobs/load/schedule\""));
	nf_buf_free(&b);
	free(js);

	/* Without run (nor enable): no form, no toggle. */
	js = nf_xprintf(job_show, "[]");
	c[0].json = js;
	ck_assert_int_eq(render("/jobs/load", NULL, c, 1, &f, &b), 0);
	ck_assert(!has(&b, "Run now"));
	ck_assert(!has(&b, "/api/jobs/load/run"));
	ck_assert(!has(&b, "/disable"));
	nf_buf_free(&b);
	free(js);
}
END_TEST

/* A page of n runs, ids from top down. */
static char *
runs_reply(int top, int n)
{
	struct nf_buf	b;
	int		i;

	nf_buf_init(&b);
	nf_buf_addc(&b, '[');
	for (i = 0; i < n; i++)
		nf_buf_printf(&b, "%s{\"id\": %d, \"job_id\": \"j\", "
		    "\"state\": \"succeeded\", \"reason\": null, \"trigger\": "
		    "\"cron\", \"triggered_by\": \"cron\", \"scheduled_for\": "
		    "null, \"created_at\": 1764800000000, \"started_at\": "
		    "1764800000000, \"finished_at\": 1764800001500, "
		    "\"error\": null, \"rows_affected\": null, "
		    "\"preset\": null}",
		    i > 0 ? ", " : "", top - i);
	nf_buf_addc(&b, ']');
	return nf_buf_steal(&b);
}

START_TEST(test_runs_paging)
{
	struct canned	 c[] = { { "runs", NULL, 0, NULL },
	    { "jobs", "[{\"id\": \"j\"}]", 0, NULL } };
	struct fake	 f;
	struct nf_buf	 b;
	char		*js;

	/* A full page: "older" is the runs before the smallest id. */
	js = runs_reply(150, 50);
	c[0].json = js;
	ck_assert_int_eq(render("/runs", "job=j&state=succeeded", c, 2, &f,
	    &b), 0);
	ck_assert_str_eq(f.args[0], "{\"job\":\"j\",\"state\":\"succeeded\","
	    "\"limit\":50}");
	ck_assert(has(&b, "<a rel=\"next\" href=\"/runs?job=j&amp;"
	    "state=succeeded&amp;before=101\">Older →</a>"));
	ck_assert(!has(&b, "Newest"));
	ck_assert(has(&b, "data-live=\"runs\""));
	ck_assert(has(&b, "<a href=\"/runs/150\">#150</a>"));
	ck_assert(has(&b, "1.5s"));
	ck_assert(has(&b, "<option selected>j</option>"));
	nf_buf_free(&b);

	/* The next page asks with before=, is not live, links back. */
	ck_assert_int_eq(render("/runs", "before=101", c, 2, &f, &b), 0);
	ck_assert_str_eq(f.args[0], "{\"before\":101,\"limit\":50}");
	ck_assert(has(&b, "href=\"/runs?\">← Newest</a>"));
	ck_assert(!has(&b, "data-live"));
	nf_buf_free(&b);
	free(js);

	/* A short page is the last one. */
	js = runs_reply(10, 10);
	c[0].json = js;
	ck_assert_int_eq(render("/runs", NULL, c, 2, &f, &b), 0);
	ck_assert(!has(&b, "Older"));
	nf_buf_free(&b);

	/* Bad filters are the caller's error; nothing is asked. */
	ck_assert_int_eq(render("/runs", "before=x", c, 2, &f, &b), 400);
	ck_assert_uint_eq(f.ncalls, 0);
	nf_buf_free(&b);
	ck_assert_int_eq(render("/runs", "since=yesterday%3C", c, 2, &f, &b),
	    400);
	ck_assert(has(&b, "since &quot;yesterday&lt;&quot; is not a time"));
	nf_buf_free(&b);
	ck_assert_int_eq(render("/runs", "since=-2h&trigger=manual", c, 2,
	    &f, &b), 0);
	ck_assert(strstr(f.args[0], "\"trigger\":\"manual\",\"since\":") !=
	    NULL);
	nf_buf_free(&b);
	free(js);
}
END_TEST

static const char run_show[] =
    "{\"id\": 42, \"job_id\": \"load\", \"state\": \"%s\", \"reason\": "
    "null, \"trigger\": \"manual\", \"triggered_by\": \"web:alice\", "
    "\"scheduled_for\": null, \"created_at\": 1764800000000, "
    "\"started_at\": 1764800000000, \"finished_at\": null, \"error\": "
    "\"<b>bad</b>\", \"rows_affected\": null, \"preset\": null, "
    "\"params\": {\"n\": \"<1>\"}, \"may\": %s, \"attempts\": [{\"id\": 1, "
    "\"step\": \"s1\", \"step_idx\": 0, \"type\": \"exec\", \"attempt\": 1, "
    "\"state\": \"failed\", \"reason\": \"timeout\", \"error\": null, "
    "\"exit_code\": null, \"signal\": 9, \"rows_affected\": null, "
    "\"started_at\": 1764800000000, \"finished_at\": 1764800065000, "
    "\"output\": {\"x\": \"</pre><script>\"}}]}";
static const char run_logs[] =
    "{\"state\": \"running\", \"lines\": [{\"seq\": 5, \"ts\": "
    "1764800000123, \"step\": \"s1\", \"attempt\": 1, \"stream\": "
    "\"stdout\", \"level\": \"info\", \"line\": \"<script>x()</script>\"}, "
    "{\"seq\": 9, \"ts\": 1764800000200, \"step\": \"s1\", \"attempt\": 1, "
    "\"stream\": \"stderr\", \"level\": \"info\", \"line\": \"oops & co\"}]}";

START_TEST(test_run_page)
{
	struct canned	 c[] = { { "run.show", NULL, 0, NULL },
	    { "logs", run_logs, 0, NULL } };
	struct fake	 f;
	struct nf_buf	 b;
	char		*js;

	js = nf_xprintf(run_show, "running", "[\"cancel\", \"replay\"]");
	c[0].json = js;
	ck_assert_int_eq(render("/runs/42", NULL, c, 2, &f, &b), 0);
	ck_assert_str_eq(f.args[0], "{\"run_id\":42}");
	ck_assert(!has(&b, "<script>x()"));
	ck_assert(has(&b, "&lt;script&gt;x()&lt;/script&gt;"));
	ck_assert(has(&b, "oops &amp; co"));
	ck_assert(has(&b, "<strong>STDERR:</strong>"));
	ck_assert(!has(&b, "</pre><script>"));
	ck_assert(has(&b, "&lt;/pre&gt;&lt;script&gt;"));
	ck_assert(has(&b, "&lt;b&gt;bad&lt;/b&gt;"));
	ck_assert(has(&b, "data-after=\"9\" data-follow=\"1\""));
	ck_assert(has(&b, "role=\"log\""));
	ck_assert(has(&b, "action=\"/api/runs/42/cancel\""));
	ck_assert(has(&b, "name=\"next\" value=\"/runs/42\""));
	/* A running run is not replayed. */
	ck_assert(!has(&b, "/api/runs/42/replay"));
	ck_assert(has(&b, "1m05s"));
	ck_assert(has(&b, "timeout"));
	ck_assert(has(&b, "signal 9"));
	nf_buf_free(&b);
	free(js);

	js = nf_xprintf(run_show, "failed", "[\"replay\"]");
	c[0].json = js;
	ck_assert_int_eq(render("/runs/42", NULL, c, 2, &f, &b), 0);
	ck_assert(!has(&b, "/cancel"));
	ck_assert(has(&b, "action=\"/api/runs/42/replay\""));
	ck_assert(!has(&b, "data-follow"));
	nf_buf_free(&b);
	free(js);

	js = nf_xprintf(run_show, "running", "[]");
	c[0].json = js;
	ck_assert_int_eq(render("/runs/42", NULL, c, 2, &f, &b), 0);
	ck_assert(!has(&b, "/cancel"));
	ck_assert(!has(&b, "/replay"));
	nf_buf_free(&b);
	free(js);

	/* A log that retention deleted says so. */
	js = nf_xprintf(run_show, "succeeded", "[]");
	c[0].json = js;
	c[1].json = "{\"state\": \"succeeded\", \"lines\": [], "
	    "\"log_pruned_at\": 1764900000000}";
	ck_assert_int_eq(render("/runs/42", NULL, c, 2, &f, &b), 0);
	ck_assert(has(&b, "The log was deleted by the retention policy on "
	    "<time datetime=\"2025-12-05T02:00:00.000Z\">"));
	ck_assert(!has(&b, "No log lines yet"));
	nf_buf_free(&b);
	free(js);
}
END_TEST

START_TEST(test_schedule_dst)
{
	static const char fires[] =
	    "[{\"at\": 1, \"utc\": \"2026-03-29T01:00:00Z\", \"local\": "
	    "\"2026-03-29 03:00:00\", \"offset\": \"+02:00\", \"zone\": "
	    "\"CEST\", \"timezone\": \"Europe/Paris\", \"flags\": "
	    "[\"dst-gap\"]}, {\"at\": 2, \"utc\": \"2026-10-25T00:30:00Z\", "
	    "\"local\": \"2026-10-25 02:30:00\", \"offset\": \"+02:00\", "
	    "\"zone\": \"CEST\", \"timezone\": \"Europe/Paris\", \"flags\": "
	    "[\"dst-repeat\"]}, {\"at\": 3, \"utc\": \"x\", \"local\": \"y\", "
	    "\"offset\": \"+01:00\", \"zone\": \"CET\", \"timezone\": "
	    "\"Europe/Paris\", \"flags\": []}]";
	struct canned	 c[] = { { "next", fires, 0, NULL } };
	struct fake	 f;
	struct nf_buf	 b;

	ck_assert_int_eq(render("/jobs/load/schedule", "n=30", c, 1, &f, &b),
	    0);
	ck_assert_str_eq(f.args[0], "{\"id\":\"load\",\"n\":30}");
	ck_assert(has(&b, "<strong>DST gap:</strong>"));
	ck_assert(has(&b, "<strong>DST fold:</strong>"));
	ck_assert(has(&b, "<tr class=\"dst\"><td>1</td>"));
	ck_assert(has(&b, "<tr><td>3</td>"));
	ck_assert(has(&b, "The next 3 fires"));
	nf_buf_free(&b);

	c[0].json = NULL;
	c[0].code = NF_EXIT_FAILED;
	c[0].err = "job load has no schedule (manual runs only)";
	ck_assert_int_eq(render("/jobs/load/schedule", NULL, c, 1, &f, &b),
	    0);
	ck_assert(has(&b, "manual runs only"));
	nf_buf_free(&b);
	ck_assert_int_eq(render("/jobs/load/schedule", "n=0", c, 1, &f, &b),
	    400);
	nf_buf_free(&b);
}
END_TEST

START_TEST(test_errors)
{
	struct canned		c[] = {
	    { "job.show", NULL, NF_EXIT_NOTFOUND,
	    "no job \"<x>\" (nfctl jobs lists them)" },
	    { "run.show", NULL, NF_EXIT_PERM, "permission denied" } };
	struct nf_webui_req	req;
	struct fake		f;
	struct nf_buf		b;

	ck_assert_int_eq(render("/jobs/x", NULL, c, 2, &f, &b), 404);
	ck_assert(has(&b, "no job &quot;&lt;x&gt;&quot;"));
	nf_buf_free(&b);
	ck_assert_int_eq(render("/runs/3", NULL, c, 2, &f, &b), 403);
	nf_buf_free(&b);
	ck_assert_int_eq(render("/nope", NULL, c, 2, &f, &b), 404);
	nf_buf_free(&b);
	ck_assert_int_eq(render("/runs/0", NULL, c, 2, &f, &b), 404);
	nf_buf_free(&b);
	ck_assert_int_eq(render("/jobs/a b", NULL, c, 2, &f, &b), 404);
	nf_buf_free(&b);
	ck_assert_int_eq(render("/jobs/a/other", NULL, c, 2, &f, &b), 404);
	ck_assert_uint_eq(f.ncalls, 0);
	nf_buf_free(&b);

	/* Not signed in: only the login page. */
	memset(&req, 0, sizeof(req));
	req.path = "/jobs";
	nf_buf_init(&b);
	ck_assert_int_eq(nf_webui_page(&req, &b), 401);
	nf_buf_reset(&b);
	req.path = "/login";
	req.query = "error=bad&next=%2Fruns%2F5";
	ck_assert_int_eq(nf_webui_page(&req, &b), 0);
	ck_assert(has(&b, "action=\"/api/login\""));
	ck_assert(has(&b, "Wrong user name or password"));
	ck_assert(has(&b, "<label for=\"login-user\">"));
	ck_assert(has(&b, "name=\"next\" value=\"/runs/5\""));
	ck_assert(!has(&b, "Sign out"));
	nf_buf_reset(&b);
	/* Only a path of ours to go back to. */
	req.query = "error=rate&retry=30&next=%2F%2Fevil.example";
	ck_assert_int_eq(nf_webui_page(&req, &b), 0);
	ck_assert(has(&b, "try again in 30 seconds"));
	ck_assert(has(&b, "name=\"next\" value=\"/jobs\""));
	ck_assert(!has(&b, "evil"));
	nf_buf_free(&b);
}
END_TEST

START_TEST(test_cron_words)
{
	static const struct {
		const char	*expr, *words;
	} t[] = {
		{ "0 2 * * *", "every day at 02:00" },
		{ "*/15 * * * *", "every 15 minutes" },
		{ "* * * * *", "every minute" },
		{ "0 * * * *", "every hour" },
		{ "30 * * * *", "every hour at minute 30" },
		{ "0 */6 * * *", "every 6 hours" },
		{ "0 0 2 * * *", "every day at 02:00" },
		{ "30 8 * * 1-5", "every weekday (Monday to Friday) at 08:30" },
		{ "0 9 * * 1,3,5", "every Monday, Wednesday and Friday at "
		    "09:00" },
		{ "0 9 * * sun", "every Sunday at 09:00" },
		{ "15 4 1 * *", "on day 1 of every month at 04:15" },
		{ "0 0 L * *", "on the last day of every month at 00:00" },
		{ "0 6 25 12 *", "every year on 25 December at 06:00" },
		{ "0 8,12,18 * * *", "every day at 08:00, 12:00 and 18:00" },
		{ "@daily", "every day at 00:00" },
		{ "@hourly", "every hour" },
		{ "@every 90s", "every 90s" },
		/* No short wording: the expression itself. */
		{ "0 2 * * 5#3", "0 2 * * 5#3" },
		{ "5 4 1-7 * *", "5 4 1-7 * *" },
		{ "30 5 2 * * *", "30 5 2 * * *" },
		{ "0 2", "0 2" },
	};
	char	buf[128];
	size_t	i;

	for (i = 0; i < NF_NELEM(t); i++) {
		nf_webui_cron_words(t[i].expr, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, t[i].words) == 0, "%s: \"%s\", "
		    "expected \"%s\"", t[i].expr, buf, t[i].words);
	}
	nf_webui_cron_words(NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "manual runs only");
}
END_TEST

START_TEST(test_assets)
{
	const unsigned char	*d;
	const char		*type;
	size_t			 len;

	d = nf_webui_asset("app.js", &len, &type);
	ck_assert(d != NULL && len > 100);
	ck_assert_str_eq(type, "text/javascript; charset=utf-8");
	ck_assert(memcmp(d, "// Nomaflow", 11) == 0);
	ck_assert(d[len] == '\0');
	d = nf_webui_asset("app.css", &len, &type);
	ck_assert(d != NULL && len > 100);
	ck_assert_str_eq(type, "text/css; charset=utf-8");
	ck_assert(nf_webui_asset("../app.js", &len, &type) == NULL);
	ck_assert(nf_webui_asset("nope.js", &len, &type) == NULL);
	ck_assert(nf_webui_asset(NULL, &len, &type) == NULL);
}
END_TEST

static Suite *
webui_suite(void)
{
	Suite	*s = suite_create("webui");
	TCase	*tc = tcase_create("pages");

	tcase_add_test(tc, test_jobs_escaped);
	tcase_add_test(tc, test_jobs_run_button);
	tcase_add_test(tc, test_jobs_filters);
	tcase_add_test(tc, test_job_form);
	tcase_add_test(tc, test_runs_paging);
	tcase_add_test(tc, test_run_page);
	tcase_add_test(tc, test_schedule_dst);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_cron_words);
	tcase_add_test(tc, test_assets);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(webui_suite)
