#!/usr/bin/python3
"""cron-croniter.py: differential test of supervisor/cron.c against croniter.

Generates random cron expressions (seeded: NF_CRON_SEED, default below)
within the dialect both implementations share, asks tests/cron_oracle for
our next 20 fires after a random start time and croniter for its own, in
UTC and in zones without DST, and prints TAP.  Every disagreement is
printed with the expression, the zone and the start.

The common dialect, and why it is restricted:
  - croniter puts seconds LAST in a 6-field expression, we put them first:
    each expression is written in both orders;
  - day-of-month / day-of-week: both OR them when both are restricted, but
    croniter calls a field unrestricted only when it expands to every value
    ("*", "1-31", "0-6", "1-7"), Vixie cron (us) when it starts with "*"
    ("*/2" too): expressions where the two rules disagree are regenerated;
  - L (alone in day-of-month) and n#k (alone in day-of-week) only; croniter
    has no W, LW or nL, and rejects n#k mixed with plain weekdays;
  - no DST zones: croniter's DST handling follows other rules (ours are in
    nomaflow-jobs(5) and checked by the golden tables and the brute-force
    oracle of check_cron);
  - horizons: we search 5 years, croniter 50; a 5-year silence ("0 0 29 2
    *" across 2100) ends our list early, which is not a disagreement.

Where the two lists differ, a third, obvious matcher (the expression's
value sets, from croniter's own expansion, applied to one wall time with
the Vixie day rule) decides who is wrong: the earlier of the two fires is
either a match (the other implementation skipped it) or not (the one that
gave it is wrong).  Only our errors fail the test; croniter's are counted
and shown (croniter 1.3 skips day 1 after a month shorter than a listed
day, e.g. "*/15" in day-of-month from February, fails the day-of-month
half of an OR with "7" in day-of-week, and more).

Environment: top_builddir (the oracle), NF_CRON_SEED, NF_CRON_COUNT
(expressions, default 10000), NF_CRON_FIRES (default 20).
"""

import datetime
import multiprocessing
import os
import random
import subprocess
import sys

try:
    from croniter import croniter
except ImportError:
    print("1..0 # SKIP python3-croniter is not installed "
          "(scripts/deps.sh --test)")
    sys.exit(0)
try:
    from zoneinfo import ZoneInfo
except ImportError:
    print("1..0 # SKIP python3 has no zoneinfo module")
    sys.exit(0)

SEED = int(os.environ.get("NF_CRON_SEED", "20261129"))
COUNT = int(os.environ.get("NF_CRON_COUNT", "10000"))
FIRES = int(os.environ.get("NF_CRON_FIRES", "20"))
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu"]
HORIZON = 5 * 366 * 86400
# Starts from 2000 to 2040 (Kathmandu's last change was in 1986).
T0 = 946684800
T1 = 2208988800

MONS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
        "oct", "nov", "dec"]
DOWS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# field: (min, max)
RANGES = {"sec": (0, 59), "min": (0, 59), "hour": (0, 23),
          "dom": (1, 31), "mon": (1, 12), "dow": (0, 6)}


def name(rng, field, v):
    """A value, sometimes as a name (month, weekday)."""
    if field == "mon" and rng.random() < 0.3:
        s = MONS[v - 1]
    elif field == "dow" and rng.random() < 0.3:
        s = DOWS[v % 7]
    else:
        return str(v)
    return s.upper() if rng.random() < 0.5 else s


def item(rng, field):
    lo, hi = RANGES[field]
    if field == "dow" and rng.random() < 0.05:
        hi = 7          # 7 is Sunday too
    kind = rng.choice(["v", "v", "range", "range-step", "start-step",
                       "star-step"])
    if kind == "v":
        return name(rng, field, rng.randint(lo, hi))
    if kind == "start-step" and field == "dow":
        # "a/n" is a-7/n for us (7 is Sunday, as in cronie), a-6/n for
        # croniter.
        kind = "range-step"
    if kind == "star-step":
        return "*/%d" % rng.randint(1, max(1, (hi - lo + 1) // 2))
    a = rng.randint(lo, hi)
    b = rng.randint(a, hi)
    if kind == "range":
        return "%s-%s" % (name(rng, field, a), name(rng, field, b))
    step = rng.randint(1, max(1, hi - lo))
    if kind == "range-step":
        return "%d-%d/%d" % (a, b, step)
    return "%d/%d" % (a, step)


def field_expr(rng, field):
    r = rng.random()
    if r < 0.3:
        return "*"
    if field == "dom" and r < 0.35:
        return "L"
    if field == "dow" and r < 0.35:
        return "%s#%d" % (name(rng, field, rng.randint(0, 6)),
                          rng.randint(1, 5))
    n = 1 if rng.random() < 0.6 else rng.randint(2, 3)
    items = []
    for _ in range(n):
        it = item(rng, field)
        if it.startswith("*") and n > 1:
            it = str(rng.randint(*RANGES[field]))
        items.append(it)
    return ",".join(items)


def sparse_ok(fields):
    """Keep second-level expressions cheap for croniter."""
    return True


def generate(rng):
    """(ours, croniter's) or None when the dialects would disagree."""
    six = rng.random() < 0.3
    f = {k: field_expr(rng, k) for k in ("min", "hour", "dom", "mon",
                                         "dow")}
    if six:
        f["sec"] = field_expr(rng, "sec")
    # Our L and # forms are whole fields; croniter's must be alone too.
    five = " ".join(f[k] for k in ("min", "hour", "dom", "mon", "dow"))
    ours = ("%s %s" % (f["sec"], five)) if six else five
    theirs = ("%s %s" % (five, f["sec"])) if six else five
    try:
        expanded, _ = croniter.expand(theirs)
    except Exception:
        return None
    # croniter applies n#k to both halves of the day-of-month OR: keep
    # n#k with an unrestricted day-of-month only.
    if "#" in f["dow"] and f["dom"] != "*":
        return None
    our_dom_star = f["dom"].startswith("*")
    our_dow_star = f["dow"].startswith("*")
    their_dom_star = expanded[2] == ["*"]
    their_dow_star = expanded[4] == ["*"]
    if (our_dom_star or our_dow_star) != (their_dom_star or their_dow_star):
        return None
    # croniter searches each half of the OR alone and gives up when the
    # day-of-month half never matches ("30 FEB"): keep satisfiable ones.
    if not (our_dom_star or our_dow_star):
        mdays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        months = range(1, 13) if expanded[3] == ["*"] else expanded[3]
        days = [d for d in expanded[2] if d != "l"]
        if "l" not in expanded[2] and not any(
                d <= mdays[m - 1] for m in months for d in days):
            return None
    return ours, theirs


def matches(theirs, zone, t):
    """Does wall time t (in zone) match the expression?  Vixie rules."""
    expanded, nth = croniter.expand(theirs)
    lt = datetime.datetime.fromtimestamp(t, ZoneInfo(zone))
    sec = expanded[5] if len(expanded) > 5 else [0]

    def has(field, v):
        return field == ["*"] or v in field

    if not (has(sec, lt.second) and has(expanded[0], lt.minute) and
            has(expanded[1], lt.hour) and has(expanded[3], lt.month)):
        return False
    nxt = (lt.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    last = (nxt - datetime.timedelta(days=1)).day
    dom_star = expanded[2] == ["*"]
    dow_star = expanded[4] == ["*"]
    dom = dom_star or lt.day in expanded[2] or (
        "l" in expanded[2] and lt.day == last)
    wd = lt.isoweekday() % 7
    if nth:
        dow = any(w % 7 == wd and (lt.day - 1) // 7 + 1 in ks
                  for w, ks in nth.items())
    else:
        dow = dow_star or any(w % 7 == wd for w in expanded[4])
    if dom_star or dow_star:
        return dom and dow
    return dom or dow


def croniter_fires(expr, zone, start, n):
    tz = ZoneInfo(zone)
    dt = datetime.datetime.fromtimestamp(start, tz)
    it = croniter(expr, dt)
    out = []
    for _ in range(n):
        try:
            t = it.get_next(datetime.datetime)
        except Exception as e:      # CroniterBadDateError: none in 50 y
            out.append(("none", str(e)))
            break
        out.append(int(t.timestamp()))
    return out


def main():
    rng = random.Random(SEED)
    builddir = os.environ.get("top_builddir", ".")
    oracle = os.path.join(builddir, "tests", "cron_oracle")
    cases = []
    skipped = 0
    while len(cases) < COUNT:
        g = generate(rng)
        if g is None:
            skipped += 1
            continue
        zone = rng.choice(ZONES)
        start = rng.randint(T0, T1)
        if rng.random() < 0.2:
            start -= start % 60   # on a minute: "strictly after" matters
        cases.append((g[0], g[1], zone, start))
    print("1..3")
    print("# seed %d (NF_CRON_SEED=%d reproduces), %d expressions, %d "
          "fires each, %d generated expressions outside the common "
          "dialect skipped" % (SEED, SEED, COUNT, FIRES, skipped))
    inp = "".join("%s %d %d %s\n" % (z, s, FIRES, o)
                  for o, _, z, s in cases)
    res = subprocess.run([oracle], input=inp, capture_output=True,
                         text=True)
    lines = res.stdout.splitlines()
    ok = res.returncode == 0 and len(lines) == len(cases)
    print("%s 1 - cron_oracle answered every expression (exit %d)" %
          ("ok" if ok else "not ok", res.returncode))
    if not ok:
        print("# %s" % res.stderr.strip())
        print("not ok 2 - we accept every expression croniter accepts")
        print("not ok 3 - the same fires as croniter")
        return 1
    rejected = []
    bad = []
    theirs_wrong = []
    compared = 0
    todo = [(c, line) for c, line in zip(cases, lines)
            if not line.startswith("E ")]
    rejected = [(c[0], line[2:]) for c, line in zip(cases, lines)
                if line.startswith("E ")]
    with multiprocessing.Pool(max(2, os.cpu_count() or 2)) as pool:
        wants = pool.starmap(croniter_fires,
                             [(c[1], c[2], c[3], FIRES) for c, _ in todo],
                             chunksize=100)
    for ((ours, theirs, zone, start), line), want in zip(todo, wants):
        mine = [int(x) for x in line.split()]
        compared += 1
        diff = None
        prev = start
        for i in range(FIRES):
            a = mine[i] if i < len(mine) else None
            b = want[i] if i < len(want) else None
            if a == -1:
                # Our horizon: fine if croniter's next is beyond it.
                if isinstance(b, int) and b - prev <= HORIZON:
                    diff = (i, a, b)
                break
            if isinstance(b, tuple):
                diff = (i, a, b[1])
                break
            if a != b:
                diff = (i, a, b)
                break
            prev = a
        if diff is None:
            continue
        i, a, b = diff
        # The earlier fire decides: a match the other one skipped, or not.
        if isinstance(a, int) and a > 0 and (not isinstance(b, int) or
                                             a < b):
            if matches(theirs, zone, a):
                theirs_wrong.append((ours, theirs, zone, start, diff))
                continue
        elif isinstance(b, int) and not matches(theirs, zone, b):
            theirs_wrong.append((ours, theirs, zone, start, diff))
            continue
        bad.append((ours, theirs, zone, start, diff))
    print("%s 2 - we accept every expression croniter accepts (%d "
          "rejected)" % ("ok" if not rejected else "not ok", len(rejected)))
    for e, why in rejected[:20]:
        print("#   rejected %r: %s" % (e, why))

    def fmt(t):
        if not isinstance(t, int) or t < 0:
            return str(t)
        return datetime.datetime.fromtimestamp(
            t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    print("%s 3 - the same %d fires as croniter for %d expressions in %s "
          "(%d disagree)" % ("ok" if not bad else "not ok", FIRES, compared,
                             ", ".join(ZONES), len(bad)))
    for ours, theirs, zone, start, (i, a, b) in bad[:50]:
        print("#   %r (croniter %r) in %s after %s: fire %d: ours %s, "
              "croniter %s" % (ours, theirs, zone, fmt(start), i, fmt(a),
                               fmt(b)))
    print("# %d more differences where croniter is wrong (the earlier fire "
          "is a match croniter skipped, or croniter's is no match), e.g.:" %
          len(theirs_wrong))
    for ours, theirs, zone, start, (i, a, b) in theirs_wrong[:5]:
        print("#   %r in %s after %s: fire %d: ours %s, croniter %s" %
              (ours, zone, fmt(start), i, fmt(a), fmt(b)))
    return 0 if not rejected and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
