"""Scores a 1,000,000-lead DataFrame with smarketing, end to end, and the same
Playbook's rules with zen-engine (a Rust decision engine with Python
bindings, PyPI `zen-engine`) on a subset of the same leads; prints both rates
and their ratio.

    python benchmarks/python_benchmark.py [--leads 1000000] [--zen-leads 20000]

zen-engine evaluates a decision graph; the Playbook's rules (personas, fit,
engagement with decay, caps and window caps, de-duplication,
disqualification, opt-out, hand-raisers, thresholds, priority) are given to
it as the data of one JavaScript function node that follows the core's
semantics. Its results are checked against smarketing's on every lead it
scores, so both engines do the same work. Each zen lead is handed over as a
ready-made dict (its preparation is not timed), which favours zen.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

from google.protobuf import json_format

import smarketing as sm

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-23T09:00:00Z"

SCORER_JS = r"""
const P = __PLAYBOOK__;
const lower = (s) => s.toLowerCase();
function enumValue(names, value) {
  if (!value) return null;
  const number = typeof value === 'number' ? value : names.indexOf(value);
  return number > 0 ? {kind: 'enum', number, text: P.enums.short[value] || ''} : null;
}
function fromJson(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v === '' ? null : {kind: 'string', text: v};
  if (typeof v === 'number') return {kind: 'number', number: v};
  if (typeof v === 'boolean') return {kind: 'bool', bool: v};
  return null;
}
function path(obj, keys) {
  let v = obj;
  for (const k of keys) { if (v === undefined || v === null || typeof v !== 'object') return undefined; v = v[k]; }
  return v;
}
function read(field, ctx) {
  const lead = ctx.lead;
  switch (field.scope) {
    case 'text': { const v = path(lead, field.keys); return v ? {kind: 'string', text: v} : null; }
    case 'number': { const v = Number(path(lead, field.keys) || 0); return v !== 0 ? {kind: 'number', number: v} : null; }
    case 'bool': return {kind: 'bool', bool: !!path(lead, field.keys)};
    case 'seniority': return enumValue(P.enums.seniority, lead.seniority);
    case 'attribute': return fromJson(path(lead.attributes, field.keys));
    case 'event_type': return enumValue(P.enums.event_type, ctx.event.type);
    case 'custom_type': return ctx.event.custom_type ? {kind: 'string', text: ctx.event.custom_type} : null;
    case 'property': return fromJson(path(ctx.event.properties, field.keys));
    case 'score_number': return {kind: 'number', number: ctx.score[field.keys[0]]};
    case 'score_text': { const v = ctx.score[field.keys[0]]; return v ? {kind: 'string', text: v} : null; }
    case 'score_bool': return {kind: 'bool', bool: ctx.score.hand_raiser};
  }
  return null;
}
function equal(lit, v, cs) {
  if (!v || lit.kind !== v.kind) return false;
  if (lit.kind === 'string') return cs ? v.text === lit.text : lower(v.text) === lit.text;
  if (lit.kind === 'bool') return v.bool === lit.bool;
  return v.number === lit.number;
}
function matches(c, ctx) {
  if (!c) return true;
  switch (c.op) {
    case 'all': return c.children.every((x) => matches(x, ctx));
    case 'any': return c.children.some((x) => matches(x, ctx));
    case 'not': return !matches(c.children[0], ctx);
  }
  const v = read(c.field, ctx);
  switch (c.op) {
    case 'exists': return (v !== null) === c.value;
    case 'equals': return equal(c.literals[0], v, c.cs);
    case 'in': return c.literals.some((l) => equal(l, v, c.cs));
    case 'range':
      if (!v || (v.kind !== 'number' && v.kind !== 'enum')) return false;
      return (c.min === null || v.number >= c.min) && (c.max === null || v.number < c.max);
  }
  if (!v || (v.kind !== 'string' && v.kind !== 'enum')) return false;
  const text = c.cs ? v.text : lower(v.text);
  switch (c.op) {
    case 'contains': return text.includes(c.text);
    case 'prefix': return text.startsWith(c.text);
    case 'suffix': return text.endsWith(c.text);
    case 'regex': return c.re.test(v.text);
  }
  return false;
}
function compileRegexes(c) {
  if (!c) return;
  if (c.op === 'regex') c.re = new RegExp(c.pattern, c.cs ? '' : 'i');
  (c.children || []).forEach(compileRegexes);
}
P.personas.forEach((p) => p.criteria.forEach((x) => compileRegexes(x.when)));
[P.fit, P.engagement, P.disqualification, P.hand_raisers, P.priority].forEach((list) => list.forEach((r) => compileRegexes(r.when)));

export const handler = async (input) => {
  const lead = input.lead;
  const now = Date.parse(input.now) / 1000;
  const ctx = {lead};
  let fit = 0, persona = -1;
  P.personas.forEach((p, i) => {
    let matched = 0;
    for (const c of p.criteria) if (matches(c.when, ctx)) matched += c.weight;
    const f = 100 * matched / p.total;
    if (matched > 0 && (persona < 0 || f > fit)) { fit = f; persona = i; }
  });
  for (const r of P.fit) if (matches(r.when, ctx)) fit += r.points;
  fit = Math.min(100, Math.max(0, fit));
  let grade = '';
  for (const b of P.bands) if (fit >= b.min_fit) grade = b.grade;

  const seen = new Set();
  const totals = P.engagement.map(() => ({decayed: 0, events: 0}));
  const windowed = P.engagement.map(() => []);
  const raised = P.hand_raisers.map(() => false);
  for (const e of lead.events || []) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const t = Date.parse(e.occurred_at) / 1000;
    if (t > now) continue;
    const age = now - t;
    ctx.event = e;
    const type = P.enums.event_type.indexOf(e.type);
    P.engagement.forEach((r, i) => {
      if (!r.types.includes(type) || !matches(r.when, ctx)) return;
      if (r.window > 0) { windowed[i].push(t); return; }
      totals[i].decayed += r.points * Math.pow(2, -age / r.half_life);
      totals[i].events++;
    });
    P.hand_raisers.forEach((h, i) => {
      if (!raised[i] && h.types.includes(type) && age <= h.lookback && matches(h.when, ctx)) raised[i] = true;
    });
  }
  let engagement = 0;
  P.engagement.forEach((r, i) => {
    if (r.window > 0) {
      windowed[i].sort((a, b) => a - b);
      let w = null, n = 0;
      for (const t of windowed[i]) {
        const k = Math.floor(t / r.window);
        if (k !== w) { w = k; n = 0; }
        if (++n > r.max_events) continue;
        totals[i].decayed += r.points * Math.pow(2, -(now - t) / r.half_life);
        totals[i].events++;
      }
    }
    if (totals[i].events === 0) return;
    let points = totals[i].decayed;
    if (r.max_points > 0) points = Math.min(r.max_points, Math.max(-r.max_points, points));
    engagement += points;
  });
  engagement = Math.min(P.max_engagement, Math.max(0, engagement));
  const total = fit + engagement;

  let stage = 'nurture', priority = 0, hand = false;
  delete ctx.event;
  if ((lead.consent || {}).opted_out || P.disqualification.some((r) => matches(r.when, ctx))) {
    stage = 'disqualified';
  } else {
    let raise = 0;
    P.hand_raisers.forEach((h, i) => { if (raised[i] && fit >= h.min_fit) { hand = true; raise = Math.max(raise, h.priority); } });
    const m = P.mql;
    if (hand || (total >= m.min_total && fit >= m.min_fit && engagement >= m.min_engagement)) stage = 'mql';
    ctx.score = {fit, engagement, total, hand_raiser: hand, grade, persona: persona >= 0 ? P.personas[persona].id : ''};
    priority = P.default_priority;
    for (const r of P.priority) if (matches(r.when, ctx)) { priority = r.priority; break; }
    priority = Math.max(priority, raise);
  }
  return {fit, engagement, total, stage, priority, hand_raiser: hand};
};
"""


def _seconds(duration: str) -> float:
    return float(duration.rstrip("s")) if duration else 0.0


def _field(path: str) -> dict:
    keys = path.split(".")
    texts = {"id", "contact.first_name", "contact.last_name", "contact.email", "contact.phone", "job_title",
             "department", "company.name", "company.domain", "company.industry", "company.country",
             "company.region", "source", "campaign", "product"}
    if path in texts:
        return {"scope": "text", "keys": keys}
    if path in ("company.employee_count", "company.annual_revenue"):
        return {"scope": "number", "keys": keys}
    if path.startswith("consent."):
        return {"scope": "bool", "keys": keys}
    if path == "seniority":
        return {"scope": "seniority", "keys": []}
    if path.startswith("attributes."):
        return {"scope": "attribute", "keys": keys[1:]}
    if path == "event.type":
        return {"scope": "event_type", "keys": []}
    if path == "event.custom_type":
        return {"scope": "custom_type", "keys": []}
    if path.startswith("event.properties."):
        return {"scope": "property", "keys": keys[2:]}
    if path in ("score.fit", "score.engagement", "score.total"):
        return {"scope": "score_number", "keys": keys[1:]}
    if path in ("score.grade", "score.persona"):
        return {"scope": "score_text", "keys": keys[1:]}
    if path == "score.hand_raiser":
        return {"scope": "score_bool", "keys": []}
    raise ValueError(f"field {path} is not translated for zen-engine")


def _condition(c: dict | None, enums: dict) -> dict | None:
    """A Playbook condition (protobuf JSON) in the form the JavaScript reads."""
    if not c:
        return None
    cs = bool(c.get("case_sensitive"))
    for op in ("all", "any"):
        if op in c:
            return {"op": op, "children": [_condition(x, enums) for x in c[op]]}
    if "not" in c:
        return {"op": "not", "children": [_condition(c["not"], enums)]}
    field = _field(c["field"])
    enum = {"seniority": "seniority", "event_type": "event_type"}.get(field["scope"])

    def literal(v):
        if isinstance(v, bool):
            return {"kind": "bool", "bool": v}
        if isinstance(v, (int, float)):
            return {"kind": "number", "number": v}
        if enum:
            names = enums[enum]
            upper = v.upper()
            number = names.index(upper) if upper in names else names.index(enums["prefix"][enum] + upper)
            return {"kind": "enum", "number": number}
        return {"kind": "string", "text": v if cs else v.lower()}

    base = {"field": field, "cs": cs}
    if "equals" in c:
        return {**base, "op": "equals", "literals": [literal(c["equals"])]}
    if "in" in c:
        return {**base, "op": "in", "literals": [literal(v) for v in c["in"]]}
    if "range" in c:
        return {**base, "op": "range", "min": c["range"].get("min"), "max": c["range"].get("max")}
    for op in ("contains", "prefix", "suffix"):
        if op in c:
            return {**base, "op": op, "text": c[op] if cs else c[op].lower()}
    if "regex" in c:
        pattern = c["regex"]
        if pattern.startswith("(?i)"):  # JavaScript has no inline flags; 'i' is set from cs
            pattern, base["cs"] = pattern[4:], False
        return {**base, "op": "regex", "pattern": pattern}
    if "exists" in c:
        return {**base, "op": "exists", "value": c["exists"]}
    raise ValueError(f"condition {c} is not translated for zen-engine")


def zen_decision(playbook: sm.Playbook) -> str:
    """A zen-engine decision graph scoring leads with the Playbook's rules."""
    from smarketing.v1 import event_pb2, lead_pb2, priority_pb2

    pb = json_format.MessageToDict(playbook.message, preserving_proto_field_name=True,
                                   use_integers_for_enums=False)
    seniority = [v.name for v in lead_pb2.Seniority.DESCRIPTOR.values]
    event_type = [v.name for v in event_pb2.EventType.DESCRIPTOR.values]
    short = {n: n.removeprefix("SENIORITY_").removeprefix("EVENT_TYPE_").lower() for n in seniority + event_type}
    enums = {"seniority": seniority, "event_type": event_type, "short": short,
             "prefix": {"seniority": "SENIORITY_", "event_type": "EVENT_TYPE_"}}
    prio = {v.name: v.number for v in priority_pb2.Priority.DESCRIPTOR.values}
    engagement = pb.get("engagement", {})
    half_life = _seconds(engagement.get("half_life", ""))
    thresholds = pb["thresholds"]["mql"]
    data = {
        "enums": enums,
        "personas": [{"id": p["id"], "total": sum(c["weight"] for c in p["criteria"]),
                      "criteria": [{"weight": c["weight"], "when": _condition(c.get("when"), enums)}
                                   for c in p["criteria"]]} for p in pb["personas"]],
        "fit": [{"points": r["points"], "when": _condition(r.get("when"), enums)} for r in pb.get("fit_rules", [])],
        "bands": sorted(({"grade": b["grade"], "min_fit": b.get("min_fit", 0)} for b in pb["grade_bands"]),
                        key=lambda b: b["min_fit"]),
        "engagement": [{
            "types": [event_type.index(t) for t in r["event_types"]],
            "when": _condition(r.get("when"), enums), "points": r["points"],
            "max_points": r.get("max_points", 0),
            "half_life": _seconds(r.get("half_life", "")) or half_life,
            "window": _seconds(r.get("window_cap", {}).get("window", "")),
            "max_events": r.get("window_cap", {}).get("max_events", 0),
        } for r in engagement.get("rules", [])],
        "max_engagement": engagement.get("max_score", 100),
        "disqualification": [{"when": _condition(r.get("when"), enums)}
                             for r in pb.get("disqualification_rules", [])],
        "hand_raisers": [{"types": [event_type.index(t) for t in r["event_types"]],
                          "when": _condition(r.get("when"), enums), "min_fit": r.get("min_fit", 0),
                          "lookback": _seconds(r.get("lookback", "")), "priority": prio[r.get("priority", "PRIORITY_UNSPECIFIED")]}
                         for r in pb.get("hand_raiser_rules", [])],
        "mql": {k: thresholds.get(k, 0) for k in ("min_total", "min_fit", "min_engagement")},
        "default_priority": prio[pb["priority"]["default_priority"]],
        "priority": [{"when": _condition(r.get("when"), enums), "priority": prio[r["priority"]]}
                     for r in pb["priority"].get("rules", [])],
    }
    source = SCORER_JS.replace("__PLAYBOOK__", json.dumps(data))
    return json.dumps({
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "lead", "position": {"x": 0, "y": 0}},
            {"id": "score", "type": "functionNode", "name": "score", "position": {"x": 200, "y": 0},
             "content": {"source": source}},
            {"id": "out", "type": "outputNode", "name": "result", "position": {"x": 400, "y": 0}},
        ],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "score", "type": "edge"},
                  {"id": "b", "sourceId": "score", "targetId": "out", "type": "edge"}],
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads scored by smarketing")
    parser.add_argument("--zen-leads", type=int, default=20_000, help="of those, leads scored by zen-engine")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--playbook", default=str(ROOT / "examples" / "playbooks" / "demo.yaml"))
    args = parser.parse_args()
    try:
        import zen
    except ImportError:
        print("zen-engine is not installed: pip install zen-engine", file=sys.stderr)
        return 2

    playbook = sm.Playbook.load(args.playbook).validate()
    print(f"cores: {os.cpu_count()}; Playbook {playbook.version_label}")
    start = time.perf_counter()
    data = sm.sample_leads(args.leads, seed=args.seed, now=NOW)
    print(f"prepared {len(data.leads):,} leads with {len(data.events):,} events "
          f"in {time.perf_counter() - start:.1f} s (not timed below)")

    # zen-engine does not route: the comparison is on scoring alone.
    start = time.perf_counter()
    scores = sm.score_frame(playbook, data.leads, data.events, now=NOW, explain="none", route=False)
    elapsed = time.perf_counter() - start
    ours = len(scores) / elapsed
    print(f"smarketing score_frame: {len(scores):,} leads in {elapsed:.2f} s = {ours:,.0f} leads/s "
          f"(DataFrames in, DataFrame out, all cores)")
    start = time.perf_counter()
    routed = sm.score_frame(playbook, data.leads, data.events, now=NOW, explain="none")
    print(f"  with routing of its {int((routed['stage'] == 'mql').sum()):,} MQLs (team and owner): "
          f"{time.perf_counter() - start:.2f} s")

    n = min(args.zen_leads, args.leads)
    events = data.events[data.events["lead_id"].isin(data.leads["id"].iloc[:n])]
    contexts = [{"now": NOW, "lead": json_format.MessageToDict(lead, preserving_proto_field_name=True)}
                for lead in sm.lead_messages(data.leads.iloc[:n], events)]
    decision = zen.ZenEngine().create_decision(zen_decision(playbook))
    results = []
    start = time.perf_counter()
    for context in contexts:
        results.append(decision.evaluate(context)["result"])
    elapsed = time.perf_counter() - start
    theirs = n / elapsed
    print(f"zen-engine {importlib.metadata.version('zen-engine')}: {n:,} leads in {elapsed:.2f} s = {theirs:,.0f} leads/s "
          f"(one evaluation per lead)")

    expected = scores.iloc[:n]
    same = sum(1 for r, (total, stage) in zip(results, zip(expected["total"], expected["stage"], strict=False), strict=False)
               if abs(r["total"] - total) < 1e-6 and r["stage"] == stage)
    print(f"zen-engine agrees with smarketing on {same:,} of {n:,} leads (total score and stage)")
    print(f"ratio: smarketing is {ours / theirs:,.0f}x faster per lead")
    return 0 if same == n else 1


if __name__ == "__main__":
    sys.exit(main())
