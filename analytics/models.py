"""The CRM's history as the reports read it: one `Stay` per record per state it was in.

A stay is kept by the writers (analytics.history, through crm.hooks in the move's own
transaction), never by the reports, so a report reads ranges of an indexed table instead of
replaying the timeline. `owner`, `source` and `niche` are the record's CURRENT ones on all its
stays (a reassignment moves them all): the access gate (accounts.access.gate) then filters the
stays with the records' own rules, as crm.tallies does for the counters. A deal's stays carry its
current amount, currency and loss reason the same way: the deals' report sums the won and lost
deals of a period from the stays alone.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Stay(models.Model):
    model = models.CharField(max_length=32)  # "leads.lead", "deals.deal"
    object_id = models.BigIntegerField()
    scope = models.BigIntegerField(default=0)  # the deal's pipeline; 0 for leads
    state = models.CharField(max_length=64)  # the lead's status value / the deal's stage id as text
    moved_from = models.CharField(max_length=64, blank=True)  # the state before ("": the record was created here)
    owner = models.BigIntegerField()  # the record's current responsible
    source = models.BigIntegerField(null=True)
    niche = models.BigIntegerField(null=True)
    # The record's current reason on all its stays, kept like `owner`: a lead's junk reason
    # (crm.JunkReason id) — the funnel's reasons without a join into the leads —, a deal's loss
    # reason (deals.LossReason id) — the deals' report's.
    reason = models.BigIntegerField(null=True)
    # The deal's current amount and currency (deals.Deal's), kept like `owner`: the deals' report and
    # the managers' won sums without a join into the deals. None and "" for a lead.
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True)  # null while the record is in this state
    entered_by = models.BigIntegerField(null=True)  # who moved it (None: the system)

    class Meta:
        verbose_name = _("Пребывание в статусе")
        verbose_name_plural = _("Пребывания в статусах")
        indexes = [
            # The funnel and the managers' report: what entered in a period.
            models.Index(fields=["model", "entered_at"], name="an_stay_entered_idx"),
            # Time in status: the stays of a state that ended in a period, read from the index alone
            # (PostgreSQL; SQLite ignores `include`): the duration is left_at − entered_at, the
            # gate and the narrowing read owner, source and niche.
            models.Index(fields=["model", "scope", "state", "left_at"], include=["entered_at", "owner", "source", "niche"],
                         name="an_stay_ended_idx"),
            # The deals' report and the managers' won deals: the deals that entered a stage (won,
            # lost) in a period with their amount, currency and loss reason, from the index alone.
            models.Index(fields=["scope", "state", "entered_at"],
                         include=["object_id", "owner", "source", "amount", "currency", "reason"],
                         condition=Q(model="deals.deal"), name="an_stay_deal_closed_idx"),
            # The writers: a record's stays (its open one, a reassignment, a deletion).
            models.Index(fields=["model", "object_id"], name="an_stay_record_idx"),
            # The stuck records: the open stays of a state, oldest first.
            models.Index(fields=["model", "scope", "state", "entered_at"], condition=Q(left_at__isnull=True),
                         name="an_stay_open_idx"),
        ]
        constraints = [
            # A record is in one state at a time.
            models.UniqueConstraint(fields=["model", "object_id"], condition=Q(left_at__isnull=True),
                                    name="an_stay_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_id} {self.state} {self.entered_at:%Y-%m-%d}…{self.left_at or ''}"


class Handover(models.Model):
    """A record became `owner`'s: created for him (`previous` None) or reassigned to him — the
    managers' report's «взято в работу». Kept with the stays (analytics.history); gated on the
    receiver, whose work it is."""

    model = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    owner = models.BigIntegerField()
    previous = models.BigIntegerField(null=True)
    at = models.DateTimeField()
    by = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = _("Передача записи")
        verbose_name_plural = _("Передачи записей")
        indexes = [
            models.Index(fields=["model", "at"], name="an_handover_at_idx"),
            models.Index(fields=["model", "object_id"], name="an_handover_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_id} → {self.owner} {self.at:%Y-%m-%d}"


# --- The lead funnel per calendar period (analytics.history keeps them; analytics.selectors.funnel reads) ---

# The calendar periods the funnel is kept for: the report's presets (analytics.forms.preset_period).
FUNNEL_KINDS = ("week", "month", "quarter", "year")
NONE = 0  # FunnelCount's source / niche / reason when the lead has none: a key column is never NULL
ANY_PIPELINE = 0  # ClosedMark's / ClosedCount's scope of a deal won in any pipeline (no pipeline has id 0)


class FunnelMark(models.Model):
    """Which lead statuses a lead ENTERED in one calendar period: bit i of `mask` is status i of
    leads.models.ORDER. «Reached» counts leads by the furthest status they entered in the period,
    which is not additive over days nor over the lead's moves — but a lead's mark per period is,
    over leads: FunnelCount sums them."""

    object_id = models.BigIntegerField()  # the lead
    kind = models.CharField(max_length=8)  # FUNNEL_KINDS
    start = models.DateField()  # the period's first day in the site's time zone (analytics.params.Period)
    mask = models.IntegerField()

    class Meta:
        verbose_name = _("Статусы лида за период")
        verbose_name_plural = _("Статусы лидов за периоды")
        constraints = [
            # One mark per lead per period; also the writers' index (a lead's marks).
            models.UniqueConstraint(fields=["object_id", "kind", "start"], name="an_funnelmark_one"),
        ]

    def __str__(self) -> str:
        return f"leads.lead#{self.object_id} {self.kind} {self.start:%Y-%m-%d} {self.mask:b}"


class FunnelCount(models.Model):
    """How many leads of an owner / source / niche / junk reason (their CURRENT ones, as the stays
    keep them) entered exactly the statuses `mask` in a calendar period: the funnel of a preset
    period reads these few hundred rows, gated on `owner` like the stays."""

    kind = models.CharField(max_length=8)
    start = models.DateField()
    owner = models.BigIntegerField()
    source = models.BigIntegerField(default=NONE)
    niche = models.BigIntegerField(default=NONE)
    reason = models.BigIntegerField(default=NONE)
    mask = models.IntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик воронки лидов")
        verbose_name_plural = _("Счётчики воронки лидов")
        constraints = [
            # The writers' upsert key. (No `include` here: a database without covering indexes —
            # SQLite — would then get no constraint at all, and the upsert's ON CONFLICT none to match.)
            models.UniqueConstraint(fields=["kind", "start", "owner", "source", "niche", "reason", "mask"],
                                    name="an_funnelcount_key"),
        ]
        indexes = [
            # The report's read of a calendar period, from the index alone on PostgreSQL (a plain index
            # on SQLite): a month's ~8 000 rows lay on ~4 000 heap pages at a million leads (7–10 ms).
            models.Index(fields=["kind", "start", "owner"], include=["source", "niche", "reason", "mask", "n"],
                         name="an_funnelcount_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start:%Y-%m-%d} {self.owner} {self.mask:b}: {self.n}"


# --- The sources' rollups (analytics.source_counts) ---

class SourceCount(models.Model):
    """How many leads were created in one calendar `month` (its first day, in the site's time
    zone) for one owner with one source and niche (0: none) — the sources' report of a month,
    a quarter, a year without reading the leads. Kept by analytics.source_counts in the writers'
    transactions; `manage.py rebuild_analytics` rebuilds and compares it. Gated on `owner`, the
    leads' own rule."""

    month = models.DateField()
    owner = models.BigIntegerField()
    source = models.BigIntegerField(default=0)
    niche = models.BigIntegerField(default=0)
    leads = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик лидов по источникам")
        verbose_name_plural = _("Счётчики лидов по источникам")
        constraints = [models.UniqueConstraint(fields=["month", "owner", "source", "niche"], name="an_source_count_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.owner}/{self.source}/{self.niche}: {self.leads}"


class SourceDealCount(models.Model):
    """The deals made from the leads of SourceCount's key (the lead's creation month, owner,
    source, niche), per the deal's owner, pipeline (`scope`) and currency: how many, how many
    won now (a success stage), their sum. Gated twice, as the report's scan is: the lead's rule
    on `owner`, the deal's on `deal_owner` and `scope`."""

    month = models.DateField()
    owner = models.BigIntegerField()
    source = models.BigIntegerField(default=0)
    niche = models.BigIntegerField(default=0)
    deal_owner = models.BigIntegerField()
    scope = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    deals = models.BigIntegerField(default=0)
    won = models.BigIntegerField(default=0)
    paid = models.DecimalField(max_digits=24, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("Счётчик сделок по источникам")
        verbose_name_plural = _("Счётчики сделок по источникам")
        constraints = [models.UniqueConstraint(
            fields=["month", "owner", "source", "niche", "deal_owner", "scope", "currency"],
            name="an_source_deal_count_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.owner}/{self.source}/{self.niche} → {self.deal_owner}/{self.scope}: {self.deals}"


class MoveCount(models.Model):
    """How many status moves of leads one user (`by`; 0: the system) made on one `day` (in the
    site's time zone) on leads of one owner, source and niche (0: none) — the managers' report's
    «Переводов статуса» for any period of days without reading the stays. Kept with SourceCount
    by analytics.source_counts from the stays the moves open; gated on `owner` like the stays."""

    day = models.DateField()
    by = models.BigIntegerField()
    owner = models.BigIntegerField()
    source = models.BigIntegerField(default=0)
    niche = models.BigIntegerField(default=0)
    moves = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик переводов статуса")
        verbose_name_plural = _("Счётчики переводов статуса")
        constraints = [models.UniqueConstraint(fields=["day", "by", "owner", "source", "niche"], name="an_move_count_key")]
        indexes = [
            # The managers' report sums a period's days from the index alone (PostgreSQL): the
            # upsert's key lacks `moves`, and a unique constraint with INCLUDE is not made on SQLite.
            models.Index(fields=["day"], include=["by", "owner", "source", "niche", "moves"], name="an_move_count_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.by} → {self.owner}/{self.source}/{self.niche}: {self.moves}"


# --- The managers' «Взято в работу» per calendar period (analytics.history keeps them; analytics.selectors.managers reads) ---

class TakenMark(models.Model):
    """«The lead `object_id` was handed to `owner` (created for him, imported, reassigned to him) in
    this calendar week / month / quarter / year»: one row however often it was. «Взято» counts the
    DISTINCT leads handed to a manager in a period — not additive over days nor over handovers,
    but a lead's mark per period is, over leads: TakenCount sums them."""

    object_id = models.BigIntegerField()  # the lead
    owner = models.BigIntegerField()  # who received it: the handover's owner, as Handover keeps it
    kind = models.CharField(max_length=8)  # FUNNEL_KINDS
    start = models.DateField()  # the period's first day in the site's time zone

    class Meta:
        verbose_name = _("Лид взят в работу за период")
        verbose_name_plural = _("Лиды взяты в работу за периоды")
        constraints = [
            # One mark per lead, receiver and period: the writers' INSERT … ON CONFLICT DO NOTHING key,
            # also their index (a lead's marks, for a deletion).
            models.UniqueConstraint(fields=["object_id", "owner", "kind", "start"], name="an_takenmark_one"),
        ]

    def __str__(self) -> str:
        return f"leads.lead#{self.object_id} → {self.owner} {self.kind} {self.start:%Y-%m-%d}"


class TakenCount(models.Model):
    """How many leads were handed to `owner` in a calendar period (TakenMark's rows): the managers'
    «Взято» of a preset period reads a few rows per manager, gated on `owner` like the handovers
    (the leads' rule on the receiver)."""

    kind = models.CharField(max_length=8)
    start = models.DateField()
    owner = models.BigIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик взятых в работу лидов")
        verbose_name_plural = _("Счётчики взятых в работу лидов")
        constraints = [
            # The writers' upsert key (crm.tallies.add) and the report's read of a period.
            models.UniqueConstraint(fields=["kind", "start", "owner"], name="an_takencount_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start:%Y-%m-%d} {self.owner}: {self.n}"


class ManagerCount(models.Model):
    """The managers' report's lead figures of a calendar period in one table: the projection of
    TakenCount («взято»), FunnelCount (the CONVERTED and JUNK bits: «конвертировано»,
    «забраковано») and MoveCount («переведено») onto (owner, by), written by the same writers in
    the same transactions (analytics.history, analytics.source_counts). A calendar period of the
    report reads a few rows per manager in one query instead of three tables (a month of daily
    moves among them). Gated on `owner`, the lead's owner, like the rollups it projects.

    `by` = 0: the owner's row — taken, converted, junked (their owner's work). `by` ≠ 0: the moves
    `by` made on the owner's leads. The system's moves (MoveCount's by 0) are not kept here: the
    report shows no one's moves for them, and so a row is written by one kind of writer only — the
    owner's rows right after the funnel's and the taken counts, the moves' right after MoveCount —
    which keeps the order every writer locks the counters in. Rows that fall to 0 stay (the read
    and the check skip them)."""

    kind = models.CharField(max_length=8)  # FUNNEL_KINDS
    start = models.DateField()  # the period's first day in the site's time zone
    owner = models.BigIntegerField()  # the lead's owner
    by = models.BigIntegerField(default=0)  # who made the moves; 0: the owner's row
    taken = models.IntegerField(default=0)
    moved = models.IntegerField(default=0)
    converted = models.IntegerField(default=0)
    junked = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик показателей менеджера")
        verbose_name_plural = _("Счётчики показателей менеджеров")
        constraints = [
            # The writers' upsert key (crm.tallies.add). No `include` on it: SQLite would make no constraint.
            models.UniqueConstraint(fields=["kind", "start", "owner", "by"], name="an_managercount_key"),
        ]
        indexes = [
            # The report's read of a calendar period from the index alone (PostgreSQL; a plain index on SQLite).
            models.Index(fields=["kind", "start"], include=["owner", "by", "taken", "moved", "converted", "junked"],
                         name="an_managercount_read_idx"),
        ]

    def __str__(self) -> str:
        return (f"{self.kind} {self.start:%Y-%m-%d} {self.owner}/{self.by}: {self.taken} {self.moved} "
                f"{self.converted} {self.junked}")


# --- The deals' report's won and lost deals per calendar period (analytics.history keeps them; analytics.selectors.deals_report reads) ---

class ClosedMark(models.Model):
    """«The deal `object_id` entered a success (`won`) / failure stage of pipeline `scope` in this
    calendar week / month / quarter / year»: one row however often it did. The report counts each
    deal once per pipeline and outcome in a period — not additive over days nor over the deal's
    moves, but a deal's mark per period is, over deals: ClosedCount sums them.

    The mark carries what it is counted under in ClosedCount — the deal's current owner, currency,
    loss reason (NONE: none) and amount, as its stays keep them — so that an edit of the deal moves
    exactly what its marks added (their own values, read under the deal's row lock) and a deletion
    takes away exactly that (DELETE … RETURNING), whatever the instance remembered.

    A won deal also has a mark of ANY_PIPELINE per period: «won in some pipeline», once however
    many pipelines it was won in — the managers' report counts a deal won and its sum once."""

    object_id = models.BigIntegerField()  # the deal
    scope = models.BigIntegerField()  # the pipeline of the stage entered; ANY_PIPELINE (won only)
    won = models.BooleanField()  # a success stage (else a failure one)
    kind = models.CharField(max_length=8)  # FUNNEL_KINDS
    start = models.DateField()  # the period's first day in the site's time zone
    owner = models.BigIntegerField()
    currency = models.CharField(max_length=3, blank=True, default="")
    reason = models.BigIntegerField(default=NONE)  # the deal's loss reason; NONE: none
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)

    class Meta:
        verbose_name = _("Сделка закрыта за период")
        verbose_name_plural = _("Сделки закрыты за периоды")
        constraints = [
            # One mark per deal, pipeline, outcome and period: the writers' INSERT … ON CONFLICT DO
            # NOTHING key, also their index (a deal's marks, for an edit or a deletion).
            models.UniqueConstraint(fields=["object_id", "scope", "won", "kind", "start"], name="an_closedmark_one"),
        ]

    def __str__(self) -> str:
        return f"deals.deal#{self.object_id} {self.scope} {'won' if self.won else 'lost'} {self.kind} {self.start:%Y-%m-%d}"


class ClosedCount(models.Model):
    """How many deals of an owner in a currency with a loss reason (their CURRENT ones) were won /
    lost in pipeline `scope` in a calendar period, and their amounts' sum (ClosedMark's rows): the
    deals' report of a preset period reads a few rows per pipeline, gated on `owner` and `scope`
    like the stays. Rows that fell to 0 stay (the reads and the check skip them)."""

    kind = models.CharField(max_length=8)
    start = models.DateField()
    scope = models.BigIntegerField()
    won = models.BooleanField()
    owner = models.BigIntegerField()
    currency = models.CharField(max_length=3, blank=True, default="")
    reason = models.BigIntegerField(default=NONE)
    n = models.IntegerField(default=0)
    total = models.DecimalField(max_digits=24, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("Счётчик закрытых сделок")
        verbose_name_plural = _("Счётчики закрытых сделок")
        constraints = [
            # The writers' upsert key (crm.tallies.add). No `include` here (SQLite would make no
            # constraint at all): the read's covering index is separate.
            models.UniqueConstraint(fields=["kind", "start", "scope", "won", "owner", "currency", "reason"],
                                    name="an_closedcount_key"),
        ]
        indexes = [
            # The report's read of a calendar period's pipelines, from the index alone (PostgreSQL).
            models.Index(fields=["kind", "start", "scope"], include=["won", "owner", "currency", "reason", "n", "total"],
                         name="an_closedcount_read_idx"),
        ]

    def __str__(self) -> str:
        return (f"{self.kind} {self.start:%Y-%m-%d} {self.scope} {'won' if self.won else 'lost'} {self.owner} "
                f"{self.currency} {self.reason}: {self.n} / {self.total}")


# --- The stuck records' count (analytics.history keeps it; analytics.selectors.stuck_count reads) ---

class OpenStayCount(models.Model):
    """How many records of `model` are in `state` (of `scope`: the deal's pipeline, 0 for leads)
    since a moment of `day` (the open stay's entered_at date in the site's time zone), owned by
    `owner`: «stuck since before a moment» sums the days before the moment's day instead of
    counting hundreds of thousands of open stays. Gated on `owner` (and `scope`) like the stays.
    Rows that fell to 0 stay (the reads sum them, the check skips them)."""

    model = models.CharField(max_length=32)
    scope = models.BigIntegerField(default=0)
    state = models.CharField(max_length=64)
    owner = models.BigIntegerField()
    day = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик открытых пребываний в статусе")
        verbose_name_plural = _("Счётчики открытых пребываний в статусах")
        constraints = [
            # The writers' upsert key (crm.tallies.add); with `day` last it is also the read's range
            # of a state's days before a moment.
            models.UniqueConstraint(fields=["model", "scope", "state", "owner", "day"], name="an_open_count_key"),
        ]
        indexes = [
            # The read: a state's days before a moment, with the count, from the index alone
            # (PostgreSQL); the key has the owner before the day, which the read ranges over.
            models.Index(fields=["model", "scope", "state", "day"], include=["owner", "n"], name="an_open_count_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.scope}/{self.state} {self.owner} {self.day:%Y-%m-%d}: {self.n}"


# --- Time in status per calendar period (analytics.history keeps it; analytics.selectors reads) ---

class EndedStayCount(models.Model):
    """How many stays of `model` in `state` (of `scope`: the deal's pipeline, 0 for leads), owned
    by `owner`, ended in the calendar week, month, quarter or year (`kind`, `start`: the left_at's
    day in the site's time zone) after lasting `tenths` tenths of a day — the duration as the report prints it, rounded
    to the nearest tenth. Time in status reads a period's histogram (a few thousand rows at a million
    leads) instead of the period's stays (180 000 in a quarter): the median and 90th percentile of
    the rounded durations are exactly those of the stays. Gated on `owner` (and `scope`) like the
    stays; no source nor niche (the key would be as many rows as the stays): narrowed by them, the
    report reads the stays. Rows that fell to 0 stay (the reads sum them, the check skips them)."""

    model = models.CharField(max_length=32)
    scope = models.BigIntegerField(default=0)
    state = models.CharField(max_length=64)
    owner = models.BigIntegerField()
    kind = models.CharField(max_length=8)  # FUNNEL_KINDS
    start = models.DateField()
    tenths = models.IntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Счётчик длительностей пребываний в статусе")
        verbose_name_plural = _("Счётчики длительностей пребываний в статусах")
        constraints = [
            # The writers' upsert key (crm.tallies.add).
            models.UniqueConstraint(fields=["model", "scope", "kind", "start", "state", "owner", "tenths"],
                                    name="an_ended_count_key"),
        ]
        indexes = [
            # The read: a period's histogram per state, from the index alone and in its order (no
            # sort before the sums; PostgreSQL — a unique constraint with INCLUDE is not made on
            # SQLite, whose upserts then fail).
            models.Index(fields=["model", "scope", "kind", "start", "state", "tenths"], include=["owner", "n"],
                         name="an_ended_count_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.scope}/{self.state} {self.owner} {self.kind} {self.start:%Y-%m-%d} {self.tenths / 10}: {self.n}"
