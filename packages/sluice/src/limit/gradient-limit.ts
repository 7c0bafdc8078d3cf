/**
 * The limit itself: a number that moves with what the calls it admits tell it. Samples are
 * gathered in windows of about one round trip; a window's throughput is, by Little's law, its
 * calls in flight over their mean RTT, and how latency follows the limit over recent windows (the
 * slope of log RTT on log limit, the *elasticity*) says whether more calls still buy throughput.
 *
 * - **'throughput'** (batch jobs): each call is judged against the load it started into. Until
 *   the first answer the limit doubles every 50 ms (see `open`); then startup grows it with
 *   every success (less the longer the call waited), by up to 2.89 a round trip but within 2.89
 *   of what the answers show the service holding at its lowest latency (BBR's startup), until
 *   throughput stops growing by a quarter a window (or the calls stop filling the limit), then
 *   drains to where it was best; after it the limit is probed up and down around a base
 *   (BBR's ProbeBW), and the base follows the elasticity, but goes straight back from a load
 *   whose calls a second fell by a quarter (a cliff, as a client and server sharing their
 *   cores meet), and the probes up go only half way back to it.
 * - **'latency'** (shared backends): the limit grows while the window's mean RTT stays within
 *   `tolerance` of the baseline (the lowest window mean of the last `baselineMs`), doubling per
 *   window until the first congestion, then by sqrt(limit); past it, only while the elasticity
 *   shows throughput still growing, else it shrinks by the latency ratio.
 * - **Loss**, either way: a dropped call (an error that signals overload, a timeout, a 429 or
 *   503) cuts the limit by `backoff`, once per round trip: calls already in flight when the cut
 *   was made report the same congestion and are not counted again. Near the limit where loss last
 *   happened growth is careful and holds, so a service that rejects above a hidden concurrency
 *   sees a probe now and then, not a burst of rejections.
 *
 * It reads no clock and sets no timer: callers pass `now`, so it can be driven by any Clock.
 */
import { type LogPoint, elasticity as slope } from './elasticity.js';
import { WindowedMin } from './windowed-min.js';

/**
 * What the limit is for: `'throughput'` finishes a batch job soonest, `'latency'` keeps a shared
 * backend's queue short.
 */
export type Objective = 'throughput' | 'latency';

export interface GradientSettings {
  readonly objective: Objective;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  /** How much the window mean RTT may exceed the baseline before the limit shrinks; > 1. */
  readonly tolerance: number;
  /** The factor a drop multiplies the limit by; in (0, 1). */
  readonly backoff: number;
}

/** Samples a window needs before it may close, so one odd call does not move the limit. */
const MIN_WINDOW_SAMPLES = 8;
/** Windows whose limit and mean RTT are kept, to see how latency follows the limit. */
const HISTORY_WINDOWS = 16;
/** The spread of log(limit) over those windows needed to read a slope: about +-10%. */
const MIN_SPREAD = 0.1 ** 2;
/** The same for 'throughput', whose probes spread the limit on purpose: +-5% will do. */
const PROBED_SPREAD = 0.05 ** 2;
/**
 * Below this slope of log(RTT) on log(limit), more calls still buy throughput (doubling the limit
 * gives at least 2^0.1, about 7%, more), so the limit grows past the latency tolerance.
 */
const PAYING_ELASTICITY = 0.9;
/** How far the limit may fall in one window on latency alone. */
const MIN_GRADIENT = 0.8;
/** Latency decreases move only part of the way, so one noisy window cannot halve the limit. */
const SHRINK_SMOOTHING = 0.5;
/**
 * 'throughput': the base grows only after a window whose calls reached this share of its limit.
 * Something else (the caller's lanes, its CPU, connections, the descriptor budget) may hold the
 * calls in flight below the limit, and a limit grown past them would be a burst waiting to happen.
 * A startup window that falls short of half its limit brings the limit back to where its calls
 * fill this share of it.
 */
const FILLED = 0.9;
/** Near the limit where loss happened, growth slows to 1 a window. */
const NEAR_LOSS = 0.8;
/** Once the limit has grown this far past the last loss without another, the mark is forgotten. */
const PAST_LOSS = 1.1;
/**
 * Windows spent just below the limit where loss happened before probing it again. Each probe of a
 * service that rejects above a fixed concurrency costs the calls started in one rejection's round
 * trip; holding keeps those to a small share of all calls.
 */
const HOLD_WINDOWS = 64;
/** 'throughput': the most the gap below a mark and the hold double, to 16 and 16 x 64 windows. */
const MAX_HITS = 4;
/**
 * 'throughput', before the first answer: the limit doubles every OPENING_DOUBLING_MS (in steps of
 * OPENING_STEP_MS), up to OPENING_CAP times where it started, as startup would grow it if the
 * service answered that fast. A limit grows only as answers come back, so without this the first
 * round trip ran at `initial` whatever the service takes: a concurrency guessed before any answer
 * is a rate only once the latency is known. A service that answers sooner grows it with its
 * answers anyway (20 ms: 131 before the first, 50 ms: 200); a slow one is not held back by its
 * own latency (200 ms: 1,600, reached as it answers). Doubling every 100 ms had the 200 ms
 * service's job at 174 in flight 100 ms in and 348 at 200 ms, where fixed 3,200's client already
 * had 905 and 1,687 (bench/RESULTS.md): the client opens connections faster than that, and the
 * first round trip is the one a 20,000-call job can least afford to run below them. Capped at
 * eight times, the limit stood at 800 from 150 ms to the first answer, and such a job ran at 90%
 * of fixed 3,200 against 93% at sixteen (with the taper, STARTUP_QUEUE; interleaved pairs on the
 * machine, bench/RESULTS.md). Past sixteen only a service slower than 200 ms would see more
 * before its first answer, and one that refuses above a hidden limit would refuse all of it.
 */
const OPENING_DOUBLING_MS = 50;
const OPENING_STEP_MS = 5;
const OPENING_CAP = 16;
/**
 * Startup ('throughput'): the most the limit may grow in one round trip while latency stays flat
 * (BBR's startup gain, 2/ln 2). Each success adds `gain - 1`, so the limit grows with the answers
 * that come back, never faster than they show the service keeps up.
 */
const STARTUP_GAIN = 2.89;
/**
 * Startup ends after three windows in a row whose throughput fails to beat the best by 25% (BBR's
 * full pipe), or at once when one with a quarter more load than the best has no more throughput.
 * Waiting out three is affordable because the reach bounds how far the limit runs meanwhile.
 */
const STARTUP_STALLS = 3;
const STARTUP_GROWTH = 1.25;
/**
 * Startup also ends at a window whose calls waited this many times the lowest RTT for less than a
 * quarter more throughput: a queue that does not pay, and the windows after it, at loads startup
 * has already grown to, would each last longer still. Before that, each success grows the limit
 * less the longer its call waited: by the full gain at the lowest RTT, by none at this many
 * times it (as HyStart++, RFC 9406, slows slow start once RTTs rise). An answer reports the load
 * of a round trip ago, when the limit was a third of what it is; growing at full gain on answers
 * that already waited twice the lowest RTT took a 200 ms service's limit from 3,932 in flight,
 * waiting 2.25 times it, to 7,869, and a 20,000-call job to 82% of fixed 3,200 (90% tapered).
 */
const STARTUP_QUEUE = 2.5;
/**
 * Startup grows the limit only while the calls in flight fill more than 1/STARTUP_USED of it, as
 * TCP grows its window in slow start only while it uses half of it (RFC 7661; Linux's
 * tcp_is_cwnd_limited). A limit the stage does not fill is permission it cannot use: a client
 * whose own CPU holds its calls to 3,000 in flight (its loop 30 to 50 ms late) saw its limit
 * grown to its cap of 10,000 by the answers of those 3,000, cut back at each window it left
 * unused and grown again within the next, and its lanes and connections churned with it. At
 * twice the calls in flight (TCP's own margin) it still ran to 7,400 lanes, each starting a call
 * on a connection of its own whenever a turn of the loop let thousands go at once (4,645
 * connections against fixed 3,200's 3,706), for a client whose CPU held 3,000: an 80,000-GET job
 * ran at 93% to 95% of fixed 3,200, and at one and a half times at 96% to 99% (interleaved pairs,
 * bench/RESULTS.md; 1.25 gained nothing more on 20,000).
 */
const STARTUP_USED = 1.5;
/**
 * Steady state ('throughput'): the limit is probed a quarter up for a window, then a fifth down
 * for one, then held for the rest of the cycle (BBR's ProbeBW gains). The two probes keep the
 * limits of recent windows spread, so how throughput follows the limit can always be read, and the
 * window below the base drains what queue the base built, so the lowest RTT is measured afresh.
 */
const PROBE_GAINS = [1.25, 0.8, 1, 1, 1, 1] as const;
/**
 * Where throughput still grows with the limit, the base grows by up to this share of itself a
 * window: all of it at a slope of 0 (latency flat), none at PAYING_ELASTICITY.
 */
const THROUGHPUT_GROWTH = 0.25;
/**
 * Past this slope of log(RTT) on log(limit), throughput falls as the limit rises: the base steps
 * back. Between PAYING_ELASTICITY and this it holds: more in flight buys little, but a noisy
 * reading must not walk the base down a flat stretch it has no reason to leave.
 */
const FALLING_ELASTICITY = 1;
/**
 * 'throughput', after startup: of two windows of a probe cycle, one at a tenth more load than
 * the other, the higher answering under three quarters of the lower's calls a second has gone
 * past the top. A client and server sharing their cores fall off a cliff there (more sockets,
 * more timers, more to collect, all on the same CPU): on the machine, 3,400 in flight against a
 * 200 ms service answered half the calls a second 2,700 did. The slope, read over a whole cycle,
 * takes windows to turn; the base goes straight back to the lower load instead. (Windows at one
 * load on a shared machine can still differ by more than a quarter, one reason a single trip
 * does not cap the base: see TOP_HOLD_WINDOWS.)
 */
const PAST_BEST = 1.1;
const OVERSHOOT = 0.75;
/**
 * After a second overshoot within this many windows of the first, the base and its probes stay
 * below the load that fell (by 5%) until this many windows pass without another, then may look
 * again: a service that got faster is found again within seconds.
 */
const TOP_HOLD_WINDOWS = 12;
const BELOW_TOP = 0.95;

/**
 * The share of startup's gain a success grows the limit by, its call having waited `ratio` times
 * the lowest RTT: see STARTUP_QUEUE.
 */
function startupTaper(ratio: number): number {
  return Math.max(0, Math.min(1, (STARTUP_QUEUE - ratio) / (STARTUP_QUEUE - 1)));
}

/** What one closed window showed and what the limit did about it: see `GradientLimit.onWindow`. */
export interface WindowTrace {
  /** When the window closed, on the caller's clock. */
  readonly at: number;
  /** 'startup' or 'probe' ('throughput'), 'slow-start' or 'steady' ('latency'): the rule that judged it. */
  readonly phase: string;
  readonly samples: number;
  /** The mean of the calls in flight each of its calls started into, and their mean RTT. */
  readonly inflight: number;
  readonly rtt: number;
  /** The lowest window mean RTT remembered. */
  readonly baseline: number;
  /** Calls answered a second over the window, on the caller's clock. */
  readonly delivered: number;
  /** The limit when the window closed, and after the rule moved it. */
  readonly from: number;
  readonly to: number;
  /** 'throughput' after startup: the base the probes move around. */
  readonly base: number;
}

export class GradientLimit {
  /**
   * Called with every window the limit closes, for traces (bench/scenarios/adaptive.ts sets it
   * with TRACE=1). Unset, it costs one comparison a window.
   */
  onWindow: ((window: WindowTrace) => void) | undefined;
  readonly #settings: GradientSettings;
  /** Kept fractional so additive growth on small limits is not lost to rounding; read as an integer. */
  #limit: number;
  #slowStart = true;
  /** 'throughput': the best throughput (calls in flight / mean RTT) seen during startup, and where. */
  #startupBest: { rate: number; limit: number } | undefined;
  #stalls = 0;
  /**
   * 'throughput', in startup: the most calls in flight any answer showed the service holding at
   * the lowest RTT seen. Startup keeps the limit within STARTUP_GAIN of it, as BBR's startup
   * keeps its window within its gain of bandwidth x min RTT: the limit grows by the gain per
   * round trip while latency holds flat, less as latency climbs, and stops where it stops paying.
   */
  #reach = 0;
  /**
   * 'throughput', in startup: the highest load of a window whose throughput beat the best by 25%
   * without its calls queueing (STARTUP_QUEUE). The limit may always double it, as slow start
   * would: where latency rises with load for reasons of the caller's own (a client short of CPU
   * still gains from more in flight), the reach alone would stop startup at a fraction of what
   * pays. A window whose calls waited 2.5 times the lowest RTT still paid, by a hair, but twice
   * its load will not: simulated connections that cost to open took a limit doubled from such a
   * window (3,776 in flight at 3.5 times the lowest RTT) to 7,552, and a 20,000-call job from
   * 92% of fixed 3,200 to 76%. An opening that ran to its cap before any answer counts as such a
   * load (see `open`).
   */
  #grown = 0;
  /**
   * 'throughput', after startup: the load that last went past the top, windows since, and
   * whether it went past there twice (only then does it cap the base and probes: a first visit
   * to a load the client never held costs it new connections, and that window may be slow for
   * that alone).
   */
  #topMark: number | undefined;
  #sinceTop = 0;
  #topConfirmed = false;
  /** 'throughput', after startup: the limit the probes move around, and where in their cycle. */
  #base = 0;
  #phase = 0;
  /** 'throughput', until the first answer: the limit grows with time (see OPENING_DOUBLING_MS). */
  #opening: boolean;
  /** While opening: when a call first found the limit full, where the doubling counts from. */
  #openedAt: number | undefined;
  /** Slow start's last window within the tolerance: where the slope is first read from. */
  #lastCalm: LogPoint | undefined;
  /** The limit when the last drop happened: growth is careful near it. */
  #lossMark: number | undefined;
  /** Windows the limit has been held just below `#lossMark`. */
  #held = 0;
  /** 'throughput': refusals in a row near the same mark; widens the gap and lengthens the hold. */
  #hits = 0;
  /** When the limit was last cut for a drop: drops of calls that started before it are the same episode. */
  #lastCut = Number.NEGATIVE_INFINITY;
  /** When the current window began: the last change of the limit, or the first call. */
  #windowStart: number | undefined;
  /** The limit when the current window began. */
  #windowLimit: number;
  #samples = 0;
  #rttSum = 0;
  #inflightSum = 0;
  #maxInflight = 0;
  /** Successes since the window began, whenever their calls started: the window's delivery. */
  #delivered = 0;
  /** The lowest window mean over the last `baselineMs`: the baseline. */
  readonly #lowest: WindowedMin;
  readonly #history: LogPoint[] = [];
  /**
   * 'throughput', after startup: the last probe cycle of windows, which a window is held against
   * to see whether it went past the top (`#pastTop`). Unlike `#history` it outlives a window past
   * the top: see `#forThroughput`.
   */
  readonly #cycle: LogPoint[] = [];
  /** The highest and lowest limits reached, for the report. */
  peak: number;
  lowest: number;
  /** Window means seen (the latest), for the report and for tests. */
  lastRtt: number | undefined;

  constructor(settings: GradientSettings, baselineMs = 30_000) {
    this.#settings = settings;
    this.#limit = settings.initial;
    this.#windowLimit = settings.initial;
    this.#lowest = new WindowedMin(baselineMs);
    this.#opening = settings.objective === 'throughput' && settings.initial < this.#openingCap;
    this.peak = settings.initial;
    this.lowest = settings.initial;
  }

  /** Calls that may be in flight at once now. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /**
   * The calls a stage should have ready for this limit: the limit, or, while it still grows with
   * time before the first answer, what it grows to (the calls wait at the limiter until it does).
   */
  get callers(): number {
    return this.#opening ? this.#openingCap : this.limit;
  }

  /** Whether the limit still grows with time: 'throughput', before the first answer. */
  get opening(): boolean {
    return this.#opening;
  }

  /**
   * Before the first answer, grows the limit by the time since a call first found it full (see
   * OPENING_DOUBLING_MS): the limiter asks only when the limit is full, and a stage that has not
   * filled its first limit has no use for more. Returns the ms until it grows again, or undefined
   * once it no longer grows with time.
   */
  open(now: number): number | undefined {
    if (!this.#opening) return undefined;
    if (this.#openedAt === undefined) this.#openedAt = now;
    const elapsed = now - this.#openedAt;
    const steps = Math.floor(elapsed / OPENING_STEP_MS);
    const { initial } = this.#settings;
    const grown = initial * 2 ** ((steps * OPENING_STEP_MS) / OPENING_DOUBLING_MS);
    this.#set(Math.max(this.#limit, Math.min(this.#openingCap, grown)));
    if (this.#limit >= this.#openingCap) {
      // Sixteen times the start in flight and no answer yet: a service this slow is answered
      // at its cap, and the reach its first answers show is that of the calls started first, at
      // a sixteenth of it. Bound by that reach alone, the limit stood at its cap for a round
      // trip's first half on the machine (1,600 from 200 to 330 ms into a job against the 200 ms
      // service, where fixed 3,200's client had 2,800 in flight by 270 ms); startup may double
      // the cap, as it may a window that paid, its growth tapered as any by the answers' RTT.
      this.#grown = Math.max(this.#grown, this.#limit);
      this.#opening = false;
      return undefined;
    }
    return (steps + 1) * OPENING_STEP_MS - elapsed;
  }

  get #openingCap(): number {
    return Math.min(this.#settings.max, OPENING_CAP * this.#settings.initial);
  }

  /** The lowest window mean RTT remembered, or undefined before the first window closed. */
  get baseline(): number | undefined {
    return this.#lowest.min;
  }

  /**
   * A call finished without signalling overload.
   * @param rtt how long it took, on the caller's clock
   * @param inflight calls in flight when it started, itself included
   * @param held calls in flight now, itself included
   */
  success(now: number, rtt: number, inflight: number, held: number): void {
    this.#opening = false;
    const started = now - rtt;
    // Startup for throughput grows with every success, not once a window: a window's wait is a
    // round trip, which on a slow service is a long time to run below what it can take.
    const startup = this.#settings.objective === 'throughput' && this.#slowStart;
    if (startup) {
      // What this call shows the service keeps in flight at the lowest RTT seen: its load,
      // scaled down by how far its latency rose above that RTT.
      const floor = this.baseline ?? rtt;
      const reach = rtt > floor ? (inflight * floor) / rtt : inflight;
      if (reach > this.#reach) this.#reach = reach;
      // (A stage that does not fill its limit shows no reach to grow it by, and holds fewer in
      // flight now than the limit allows: see STARTUP_USED.)
      const bound = Math.min(Math.max(STARTUP_GAIN * this.#reach, 2 * this.#grown), STARTUP_USED * held);
      const next = Math.min(this.#limit + (STARTUP_GAIN - 1) * startupTaper(rtt / floor), bound);
      if (next > this.#limit) this.#set(next);
    }
    this.#delivered++;
    if (this.#windowStart === undefined) this.#windowStart = started;
    // A call admitted before the limit last changed tells about the old limit, not this one.
    else if (started < this.#windowStart) return;
    this.#samples++;
    this.#rttSum += rtt;
    this.#inflightSum += inflight;
    if (inflight > this.#maxInflight) this.#maxInflight = inflight;
    // A window spans about one round trip: the limit moves once per RTT, as TCP's window does.
    const span = this.baseline ?? this.#rttSum / this.#samples;
    // And it hears from about half the calls admitted, not just the first few to finish, which
    // are the fastest.
    // (In startup a quarter of the window's first limit will do: the window is judged on the calls
    // it started with, and waiting for half of a limit that grows as they answer costs a round trip.)
    const needed = Math.max(MIN_WINDOW_SAMPLES, startup ? this.#windowLimit / 4 : this.#limit / 2);
    if (this.#samples < needed || now - this.#windowStart < span) return;
    this.#closeWindow(now);
  }

  /**
   * A call signalled overload.
   * @param started when the call started: a call started before the last cut reports the
   *   congestion that cut was for.
   * @param inflight calls in flight when it started, itself included
   */
  drop(now: number, started: number, inflight: number = this.#limit): void {
    this.#opening = false;
    if (started <= this.#lastCut) {
      // The same episode. For 'throughput' the calls it rejected tell where the service said
      // no, and the lowest of their loads is the nearest to it: a rejection that took a round
      // trip to come back finds the limit already far past that.
      const mark = this.#lossMark;
      if (this.#settings.objective === 'throughput' && mark !== undefined && inflight < mark) {
        this.#lossMark = inflight;
        const cut = inflight * this.#settings.backoff;
        if (this.#limit > cut) this.#set(cut);
        this.#base = Math.min(this.#base, this.#limit);
      }
      return;
    }
    this.#lastCut = now;
    // Where the service said no: the calls in flight when the rejected call started, which may
    // be below a limit not yet filled, or above one cut since.
    // ('latency' keeps the limit itself: its +1 growth past a mark below the service's capacity
    // would forget the mark and overshoot on sqrt growth.)
    const doubling = this.#slowStart;
    this.#slowStart = false;
    const last = this.#lossMark;
    if (this.#settings.objective === 'throughput') {
      const mark = Math.min(this.#limit, inflight);
      // Refused again near where it was refused last: the hold was too close.
      this.#hits = last !== undefined && mark <= PAST_LOSS * last ? Math.min(MAX_HITS, this.#hits + 1) : 0;
      this.#lossMark = mark;
    } else this.#lossMark = this.#limit;
    this.#held = 0;
    // 'latency' refused in slow start: the limit had just doubled, so the service's capacity lies
    // between the window's first limit, which it took without a refusal, and this one. Cutting
    // by `backoff` a round trip from the top took five round trips of refusals to get below it
    // (512 down to 300); the last limit it took is below it now.
    if (doubling && this.#settings.objective === 'latency')
      this.#set(Math.min(this.#windowLimit, this.#lossMark * this.#settings.backoff));
    else this.#set(this.#lossMark * this.#settings.backoff);
    // The probes resume from the cut, or from below it, after a window held there.
    this.#base = this.#base === 0 ? this.#limit : Math.min(this.#base, this.#limit);
    this.#phase = 1;
    this.#resetWindow(now);
  }

  /** Whether a drop now would be a new episode, not the echo of the last cut. */
  isNewEpisode(started: number): boolean {
    return started > this.#lastCut;
  }

  #closeWindow(now: number): void {
    const trace = this.onWindow;
    if (trace === undefined) {
      this.#judgeWindow(now);
      return;
    }
    const throughput = this.#settings.objective === 'throughput';
    const phase = this.#slowStart ? (throughput ? 'startup' : 'slow-start') : throughput ? 'probe' : 'steady';
    const window = {
      at: now,
      phase,
      samples: this.#samples,
      inflight: this.#inflightSum / this.#samples,
      rtt: this.#rttSum / this.#samples,
      delivered: (1000 * this.#delivered) / Math.max(1, now - (this.#windowStart as number)),
      from: this.limit,
    };
    this.#judgeWindow(now);
    trace({ ...window, baseline: this.baseline as number, to: this.limit, base: Math.floor(this.#base) });
  }

  #judgeWindow(now: number): void {
    const mean = this.#rttSum / this.#samples;
    const meanInflight = this.#inflightSum / this.#samples;
    const startup = this.#settings.objective === 'throughput' && this.#slowStart;
    // The limit the window's calls are held against: in 'throughput' startup, the window's first,
    // since the limit grows within it.
    const against = startup ? this.#windowLimit : this.#limit;
    const appLimited = this.#maxInflight * 2 < against;
    // Whether the window's calls reached its limit: a limit they do not reach proves nothing
    // about one higher.
    const filled = this.#maxInflight >= FILLED * against;
    const mostInflight = this.#maxInflight;
    // The stage's first window holds the calls it started while it filled its first limit, one
    // by one as its lanes and connections started: their loads climb from 1 and say nothing of
    // what the stage can use.
    const first = this.baseline === undefined;
    this.#resetWindow(now);
    this.lastRtt = mean;
    this.#lowest.add(now, mean);
    if (this.#settings.objective === 'throughput') {
      if (!appLimited && mean > 0) this.#forThroughput(meanInflight, mean, filled);
      // Startup grows the limit with every answer, by up to 2.89 a round trip: calls that do not
      // fill it (a client whose loop lags, a stage with fewer items than that) leave it more
      // than twice what they hold, and a window so far below its limit is not judged; with no
      // window judged, startup never ended. The limit comes back to just above them, so the
      // next one is. (Not after the first window: on the machine, read as a stage that leaves
      // its limit unused, it brought a limit of 100 back to 31 a round trip into the job.)
      // Such a window is also a stall: the calls grew no further. Counting only judged windows,
      // the answers grew the limit past the calls again between them, and a client holding
      // 2,500 to 3,300 in flight kept an 80,000-GET job in startup for 3.6 of its 8 seconds.
      // Startup so ended holds the base for the rest of the cycle instead of draining a fifth
      // below it: the calls built no queue to drain, and on the machine that first window
      // below cost a 20,000-GET job what the earlier end gained it.
      else if (appLimited && startup && !first) {
        // What it held it delivered, all the same: a best window, if it beat the best, is where
        // startup ends. Left out, a client that held 2,750 calls at 9,700 a second in such a
        // window ended startup at the 1,880 of an earlier one that ran 6,700 a second.
        const rate = meanInflight / mean;
        if (mean > 0 && (this.#startupBest === undefined || rate > this.#startupBest.rate))
          this.#startupBest = { rate, limit: meanInflight };
        this.#set(Math.min(this.#limit, mostInflight / FILLED));
        this.#windowLimit = this.#limit;
        if (this.#startupBest !== undefined && ++this.#stalls >= STARTUP_STALLS)
          this.#endStartup(PROBE_GAINS.indexOf(0.8));
      }
      return;
    }
    const baseline = this.baseline as number;
    const { tolerance } = this.#settings;
    // Only windows past the tolerance say anything about whether a queue pays for itself (and,
    // once, the calm window just before the first of them).
    if (!appLimited && mean > tolerance * baseline) {
      // Leaving slow start just after a doubling: the window before, still calm, and this one
      // span a factor of two, enough to read a first slope. Without it the slope waits for the
      // limit to wander +-10% by itself, seconds in which the limit only shrinks. (A limit that
      // stopped doubling at max has no such pair: the calm window is from another time.)
      const x = Math.log(this.#limit);
      const calm = this.#lastCalm;
      if (this.#slowStart && calm !== undefined && calm.x < x) this.#history.push(calm);
      this.#history.push({ x, y: Math.log(mean) });
      if (this.#history.length > HISTORY_WINDOWS) this.#history.shift();
    }
    if (mean <= tolerance * baseline || mean <= 0) {
      // The stage does not use what it has (a slow source, a slow consumer): more would prove nothing.
      if (appLimited) return;
      if (this.#slowStart) this.#lastCalm = { x: Math.log(this.#limit), y: Math.log(mean) };
      const limit = this.#limit;
      let next: number;
      if (this.#slowStart) next = limit * 2;
      else if (this.#lossMark !== undefined && limit >= NEAR_LOSS * this.#lossMark) {
        next = limit + 1;
        if (Math.floor(next) >= Math.floor(this.#lossMark) && this.#held++ < HOLD_WINDOWS) {
          next = Math.max(limit, Math.floor(this.#lossMark) - 1);
        }
      } else next = limit + Math.sqrt(limit);
      if (this.#lossMark !== undefined && next > PAST_LOSS * this.#lossMark) this.#lossMark = undefined;
      this.#set(next);
      return;
    }
    this.#slowStart = false;
    // Latency rose, but if throughput rose with the limit the queue is paying for itself: a
    // service that handles calls more cheaply in bulk is slower per call and faster overall.
    const elasticity = slope(this.#history, MIN_SPREAD);
    if (!appLimited && elasticity !== undefined && elasticity < PAYING_ELASTICITY) {
      this.#set(this.#limit + Math.sqrt(this.#limit));
      return;
    }
    const gradient = Math.max(MIN_GRADIENT, (tolerance * baseline) / mean);
    this.#set(this.#limit - (this.#limit - this.#limit * gradient) * SHRINK_SMOOTHING);
  }

  /**
   * The 'throughput' rule, once a window. By Little's law the window's throughput is the calls it
   * held in flight over their mean RTT. Startup grows the limit (see `success`) until that stops
   * growing by a quarter, then goes back to where it was best. After it, the probes move the limit
   * around a base, and the slope of latency on the limit over the last windows moves the base:
   * up while throughput still grows with it, down when it falls, a slow drift down when it is flat
   * (more in flight would only wait).
   */
  #forThroughput(inflight: number, mean: number, filled: boolean): void {
    const cliff = this.#slowStart ? undefined : this.#pastTop(inflight, inflight / mean);
    // One probe cycle of windows: the slope where the base is now, not where it was.
    const point = { x: Math.log(inflight), y: Math.log(mean) };
    this.#history.push(point);
    if (this.#history.length > PROBE_GAINS.length) this.#history.shift();
    if (!this.#slowStart) {
      this.#cycle.push(point);
      if (this.#cycle.length > PROBE_GAINS.length) this.#cycle.shift();
    }
    if (this.#slowStart) {
      const rate = inflight / mean;
      const best = this.#startupBest;
      if (best === undefined || rate >= STARTUP_GROWTH * best.rate) {
        this.#startupBest = { rate, limit: inflight };
        // A window that queued paid this time; twice its load would not (see #grown).
        if (mean <= STARTUP_QUEUE * (this.baseline as number)) this.#grown = Math.max(this.#grown, inflight);
        this.#stalls = 0;
        return;
      }
      // A quarter more in flight than the best window and no more throughput is past the top,
      // not noise: leave at once rather than wait out the stalls at a load that costs. So is a
      // window that queued (STARTUP_QUEUE) for no such gain.
      const pastTop =
        (rate <= best.rate && inflight >= STARTUP_GROWTH * best.limit) ||
        mean > STARTUP_QUEUE * (this.baseline as number);
      if (rate > best.rate) this.#startupBest = { rate, limit: inflight };
      if (++this.#stalls < STARTUP_STALLS && !pastTop) return;
      // A window whose calls did not fill its limit built no queue of the limit's making: the
      // base holds for the rest of the cycle rather than drain a fifth below it (as after
      // windows left unused, below).
      this.#endStartup(filled ? 0 : PROBE_GAINS.indexOf(0.8));
      return;
    }
    if (this.#topMark !== undefined && ++this.#sinceTop > TOP_HOLD_WINDOWS) this.#topMark = undefined;
    if (cliff !== undefined) {
      this.#topConfirmed = this.#topMark !== undefined;
      this.#topMark = Math.min(cliff.top, this.#topMark ?? cliff.top);
      this.#sinceTop = 0;
      // A probe above the base that fell leaves the base where it is; a base that fell goes
      // back to the lower load.
      if (cliff.top <= PAST_BEST * this.#base) this.#base = Math.max(this.#settings.min, cliff.load);
      // The windows past the top would read as a slope long after the base left them, and those
      // below it as one that still pays, straight back into the cliff. (Its windows stay in
      // `#cycle`: a base that grew into the cliff as the probe above it fell, 2,421 to 2,778 past
      // one at 2,500, is past the top against them at its next window. Held against the windows
      // since alone, it stayed there, at two thirds of the calls a second, for four.)
      this.#history.length = 0;
      // Held at the base for the rest of the cycle, then probed again, below the mark.
      this.#phase = 1;
      this.#set(this.#base);
      return;
    }
    const elasticity = slope(this.#history, PROBED_SPREAD);
    let base = this.#base;
    if (elasticity !== undefined) {
      if (elasticity < PAYING_ELASTICITY && filled)
        base *= 1 + THROUGHPUT_GROWTH * Math.min(1, 1 - elasticity / PAYING_ELASTICITY);
      else if (elasticity > FALLING_ELASTICITY) base *= 0.95;
    }
    // Below the limit where loss happened, the base closes half the gap a window (a cut costs a
    // few round trips, not a crawl back at +1), then holds just below it, as in the latency rule.
    const mark = this.#lossMark;
    const hold = HOLD_WINDOWS * 2 ** this.#hits;
    if (mark !== undefined && base > this.#base) {
      const ceiling = this.#ceiling(mark);
      if (this.#base >= NEAR_LOSS * mark) base = this.#base + Math.max(1, (ceiling - this.#base) / 2);
      if (Math.floor(base) > ceiling && this.#held++ < hold) base = Math.max(this.#base, ceiling);
      if (base > PAST_LOSS * mark) {
        this.#lossMark = undefined;
        this.#hits = 0;
      }
    }
    const top =
      this.#topMark === undefined || !this.#topConfirmed
        ? Number.POSITIVE_INFINITY
        : BELOW_TOP * this.#topMark;
    if (base > this.#base) base = Math.max(this.#base, Math.min(base, top));
    const { min, max } = this.#settings;
    this.#base = Math.min(max, Math.max(min, base));
    this.#phase = (this.#phase + 1) % PROBE_GAINS.length;
    let probe = this.#base * (PROBE_GAINS[this.#phase] as number);
    if (probe > this.#base) probe = Math.max(this.#base, Math.min(probe, top, this.#halfwayToTop()));
    // A probe does not knock on a door that answered 429 until the hold is over.
    if (this.#lossMark !== undefined && this.#held <= hold) {
      probe = Math.min(probe, Math.max(this.#base, this.#ceiling(this.#lossMark)));
    }
    this.#set(probe);
  }

  /**
   * 'throughput': startup is over; the limit drains to the load of its best window, the probes'
   * base, and the probe cycle goes on from `phase` (0: its next window is the fifth down).
   */
  #endStartup(phase = 0): void {
    this.#slowStart = false;
    this.#base = Math.max(this.#settings.min, (this.#startupBest as { limit: number }).limit);
    this.#phase = phase;
    this.#history.length = 0;
    this.#set(this.#base);
  }

  /**
   * 'throughput', after startup: whether this window, at `load`, went past the top (OVERSHOOT)
   * against the window of the cycle with the most calls a second among those at a tenth less
   * load or more; if so, this load (`top`) and that window's (`load`).
   */
  #pastTop(load: number, rate: number): { top: number; load: number } | undefined {
    let lower: { load: number; rate: number } | undefined;
    for (const p of this.#cycle) {
      const other = { load: Math.exp(p.x), rate: Math.exp(p.x - p.y) };
      if (PAST_BEST * other.load > load) continue;
      if (lower === undefined || other.rate > lower.rate) lower = other;
    }
    if (lower === undefined || rate >= OVERSHOOT * lower.rate) return undefined;
    return { top: load, load: lower.load };
  }

  /**
   * 'throughput', after startup: how far an up-probe may go while a load that went past the top is
   * remembered: half way from the base to it. The probe looks for throughput past the base; a full
   * quarter up from a base that settled just under a cliff lands past it again (a base of 3,008
   * under a cliff at 3,000 probed 3,761: a window of a second at half the calls a second, every
   * cycle). Half the gap finds a top that moved up all the same, and each probe that falls again
   * marks a lower top, so the next one costs less.
   */
  #halfwayToTop(): number {
    const mark = this.#topMark;
    if (mark === undefined || mark <= this.#base) return Number.POSITIVE_INFINITY;
    return this.#base + (mark - this.#base) / 2;
  }

  /**
   * 'throughput': where the limit holds below a loss mark. One below it at first; each refusal
   * near the same mark doubles the gap and the hold, since the loads a refusal is read at are
   * approximate (calls started in the same millisecond share one), and each probe of a service
   * whose refusals take a round trip costs every call started in that round trip.
   */
  #ceiling(mark: number): number {
    return Math.floor(mark) - 2 ** this.#hits;
  }

  #resetWindow(now: number): void {
    this.#windowStart = now;
    this.#delivered = 0;
    this.#windowLimit = this.#limit;
    this.#samples = 0;
    this.#rttSum = 0;
    this.#inflightSum = 0;
    this.#maxInflight = 0;
  }

  #set(value: number): void {
    const { min, max } = this.#settings;
    this.#limit = Math.min(max, Math.max(min, value));
    if (this.#limit > this.peak) this.peak = Math.floor(this.#limit);
    if (this.#limit < this.lowest) this.lowest = Math.floor(this.#limit);
  }
}
