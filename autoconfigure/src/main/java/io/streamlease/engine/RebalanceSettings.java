package io.streamlease.engine;

import java.time.Duration;

/**
 * Fair-share rebalancing: a consumer that holds more than its share of the service's streams (by capacity) hands
 * the excess off to consumers below their share, a bounded part per round, through the cooperative path of a
 * graceful shutdown. The defaults are defined here once; the starter's properties refer to them.
 *
 * @param enabled whether this consumer hands off its excess (it always publishes its load, and claims handed-off
 * streams by the below-share rule only while enabled)
 * @param interval the least time between two rounds of this consumer that moved streams; null for the default,
 * hb-interval / 2 (one round per renewal tick at most)
 * @param tolerance how far above its share a consumer may be before it moves anything, as a fraction of the share
 * @param maxFractionPerRound the most a round moves, as a fraction of the streams this consumer holds
 * @param maxMovesPerRound the most a round moves, in streams
 * @param gracePeriod how long a stream asked to yield may stay held (its handler finishing the entry or the work in
 * hand) before it is handed off anyway (stream-level handlers are interrupted then)
 * @param settleTime how long a consumer must have been live before peers count it; null for the default,
 * hb-interval (two renewals)
 */
public record RebalanceSettings(boolean enabled, Duration interval, double tolerance, double maxFractionPerRound,
		int maxMovesPerRound, Duration gracePeriod, Duration settleTime) {

	/** The default of {@link #tolerance()}: 10 %. */
	public static final double DEFAULT_TOLERANCE = 0.1;

	/** The default of {@link #maxFractionPerRound()}: 25 % of the streams held. */
	public static final double DEFAULT_MAX_FRACTION_PER_ROUND = 0.25;

	/** The default of {@link #maxMovesPerRound()}. */
	public static final int DEFAULT_MAX_MOVES_PER_ROUND = 1000;

	/** The default of {@link #gracePeriod()}. */
	public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(5);

	/** On, with every value at its default. */
	public static final RebalanceSettings DEFAULT = new RebalanceSettings(true, null, DEFAULT_TOLERANCE,
			DEFAULT_MAX_FRACTION_PER_ROUND, DEFAULT_MAX_MOVES_PER_ROUND, DEFAULT_GRACE_PERIOD, null);

	/** Off: this consumer never hands streams off for fairness. */
	public static final RebalanceSettings OFF = new RebalanceSettings(false, null, DEFAULT_TOLERANCE,
			DEFAULT_MAX_FRACTION_PER_ROUND, DEFAULT_MAX_MOVES_PER_ROUND, DEFAULT_GRACE_PERIOD, null);

	/** The interval for a heartbeat interval: the one set, else hb-interval / 2. */
	Duration interval(Duration hbInterval) {
		return (this.interval != null) ? this.interval : hbInterval.dividedBy(2);
	}

	/** The settle time for a heartbeat interval: the one set, else hb-interval. */
	Duration settleTime(Duration hbInterval) {
		return (this.settleTime != null) ? this.settleTime : hbInterval;
	}

	/** Validates the values, naming the first one that breaks its rule. */
	void validate() {
		if (this.interval != null && (this.interval.isZero() || this.interval.isNegative())) {
			throw new InvalidSettingException("rebalance.interval", this.interval, "it must be greater than 0");
		}
		if (!(this.tolerance >= 0) || this.tolerance > 10) {
			throw new InvalidSettingException("rebalance.tolerance", this.tolerance,
					"it must be between 0 and 10 (a fraction of the share: 0.1 is 10 %)");
		}
		if (!(this.maxFractionPerRound > 0) || this.maxFractionPerRound > 1) {
			throw new InvalidSettingException("rebalance.max-fraction-per-round", this.maxFractionPerRound,
					"it must be greater than 0 and at most 1 (a fraction of the streams held: 0.25 is 25 %)");
		}
		if (this.maxMovesPerRound <= 0) {
			throw new InvalidSettingException("rebalance.max-moves-per-round", this.maxMovesPerRound,
					"it must be greater than 0");
		}
		if (this.gracePeriod == null || this.gracePeriod.isNegative()) {
			throw new InvalidSettingException("rebalance.grace-period", this.gracePeriod, "it must be 0 or more");
		}
		if (this.settleTime != null && this.settleTime.isNegative()) {
			throw new InvalidSettingException("rebalance.settle-time", this.settleTime, "it must be 0 or more");
		}
	}

}
