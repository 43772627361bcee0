// Patterns from settings a checkout can supply (risk rules, smoke.ready.log) run on text the
// checkout supplies: a catastrophic pattern is stopped within its budget and reported; normal
// patterns match as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadyLogMatcher } from '../../src/core/build/smoke';
import { RULE_TIMEOUTS_BEFORE_OFF, RuleTurnedOffError, resolveRiskRules, scanForRisks, type RiskRule } from '../../src/core/rules/riskRules';
import { BoundedRegex, REGEX_BUDGET_MS, RegexTimeoutError } from '../../src/core/safety/boundedRegex';

// Measured without a budget: 160 ms at 24 characters, doubling with each one more.
const CATASTROPHIC = 'export (\\w+\\s?)+;';
const HOSTILE = `export ${'a'.repeat(40)} !`;
// Generous for a loaded 2-core machine; unbounded, the hostile line takes days.
const BOUND_MS = 2000;

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

test('bounded regex: normal patterns match line by line, with groups and offsets', () => {
  const re = new BoundedRegex('(a)(x)?b', 'i');
  assert.deepEqual(re.scanLines('ab cAb\r\nzz\nab', 100, 20), [
    { index: 0, groups: ['ab', 'a', ''] },
    { index: 4, groups: ['Ab', 'A', ''] },
    { index: 11, groups: ['ab', 'a', ''] },
  ]);
  assert.equal(new BoundedRegex('^listening on \\d+$').testAny(['starting', 'listening on 8080']), true);
  assert.equal(new BoundedRegex('ready').testAny(['starting']), false);
  assert.throws(() => new BoundedRegex('('), SyntaxError);
});

test('bounded regex: a catastrophic pattern is stopped within its budget, and the matcher still works after', () => {
  const re = new BoundedRegex(CATASTROPHIC);
  const { value: err, ms } = timed(() => {
    try {
      re.scanLines(`ok\n${HOSTILE}\n`, 20_000, 20);
    } catch (e) {
      return e;
    }
  });
  assert.ok(err instanceof RegexTimeoutError, String(err));
  assert.match(err.message, /ran longer than 50 ms and was stopped/);
  assert.ok(ms < BOUND_MS, `took ${ms} ms`);
  assert.equal(REGEX_BUDGET_MS, 50);
  assert.deepEqual(re.scanLines('export a b;', 100, 20).map((m) => m.groups[0]), ['export a b;']);
  assert.throws(() => re.testAny(['fine', HOSTILE]), RegexTimeoutError);
});

test('risk rules: a catastrophic pattern is skipped for that file and reported; other rules and files still match', () => {
  const { rules, warnings } = resolveRiskRules([
    { id: 'runaway', pattern: CATASTROPHIC },
    { id: 'todo', pattern: 'TODO' },
  ]);
  assert.deepEqual(warnings, []);
  const errors: { rule: RiskRule; err: unknown }[] = [];
  const text = `TODO first\n${HOSTILE}\n`;
  const { value: findings, ms } = timed(() => scanForRisks(text, 'entry.sh', rules, { onRuleError: (rule, err) => errors.push({ rule, err }) }));
  assert.ok(ms < BOUND_MS, `took ${ms} ms`);
  assert.deepEqual(findings.map((f) => [f.ruleId, f.line]), [['todo', 0]]);
  assert.deepEqual(errors.map((e) => e.rule.id), ['runaway']);
  assert.ok(errors[0].err instanceof RegexTimeoutError);
  // The same rule on a file it does not blow up on: matches, with its groups.
  const ok = scanForRisks('export a b;\n', 'other.sh', rules);
  assert.deepEqual(ok.map((f) => [f.ruleId, f.message]), [['runaway', 'Matches risky pattern "runaway": export a b;']]);
});

test('risk rules: a pattern that keeps timing out is turned off after a few files, until the rules are resolved again', () => {
  const setting = [{ id: 'runaway', pattern: CATASTROPHIC }, { id: 'todo', pattern: 'TODO' }];
  const { rules } = resolveRiskRules(setting);
  const errors: unknown[] = [];
  const scan = (file: string) => scanForRisks(`TODO\n${HOSTILE}\n`, file, rules, { onRuleError: (_r, err) => errors.push(err) });
  const { ms } = timed(() => {
    for (let i = 0; i < 20; i++) assert.deepEqual(scan(`f${i}.sh`).map((f) => f.ruleId), ['todo'], 'the other rule keeps matching');
  });
  assert.equal(RULE_TIMEOUTS_BEFORE_OFF, 3);
  assert.equal(errors.length, RULE_TIMEOUTS_BEFORE_OFF, 'reported each time until it is off, then never again');
  assert.ok(errors.slice(0, -1).every((e) => e instanceof RegexTimeoutError && !(e instanceof RuleTurnedOffError)));
  const last = errors.at(-1);
  assert.ok(last instanceof RuleTurnedOffError, String(last));
  assert.match(last.message, /ran longer than 50 ms and was stopped .*after 3 such timeouts the rule is off until buildProvenance\.riskRules changes/);
  // 20 files cost about 3 budgets, not 20.
  assert.ok(ms < BOUND_MS, `took ${ms} ms`);
  assert.deepEqual(scanForRisks('export a b;\n', 'y.sh', rules).map((f) => f.ruleId), [], 'off: not even a harmless file is scanned');
  // Resolved again (the setting changed): the rule is back.
  const again = resolveRiskRules(setting).rules;
  assert.deepEqual(scanForRisks('export a b;\n', 'x.sh', again).map((f) => f.ruleId), ['runaway']);
});

test('smoke ready.log: lines are tested in batches; a catastrophic pattern stops the probe with a reason', async () => {
  const ready = new ReadyLogMatcher('^listening on \\d+');
  ready.push('starting');
  assert.equal(ready.check(), 'waiting');
  ready.push('x');
  ready.push('listening on 8080');
  await Promise.resolve(); // tested after the current task, together
  assert.equal(ready.check(), 'matched');

  const runaway = new ReadyLogMatcher(CATASTROPHIC);
  runaway.push('booting');
  runaway.push(HOSTILE);
  const { value: state, ms } = timed(() => runaway.check());
  assert.ok(ms < BOUND_MS, `took ${ms} ms`);
  assert.equal(state, 'stopped');
  assert.match(runaway.error, /^smoke\.ready\.log: the regular expression .* ran longer than 50 ms and was stopped .*the log probe cannot tell when it is ready/);
  runaway.push('export a b;'); // no longer tested
  assert.equal(runaway.check(), 'stopped');
});
