package io.streamlease.benchmarks;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;

/**
 * One quantity measured in several repetitions: the median of the repetitions and their range.
 *
 * @param median the median of the repetitions (the mean of the middle two for an even count)
 * @param min the smallest repetition
 * @param max the largest repetition
 * @param repetitions how many
 */
record Spread(double median, double min, double max, int repetitions) {

	static Spread of(Collection<? extends Number> values) {
		double[] sorted = values.stream().mapToDouble(Number::doubleValue).filter((v) -> !Double.isNaN(v)).toArray();
		if (sorted.length == 0) {
			return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
		}
		Arrays.sort(sorted);
		int n = sorted.length;
		double median = (n % 2 == 1) ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
		return new Spread(median, sorted[0], sorted[n - 1], n);
	}

	/** The median with its range, e.g. {@code 12.3 (11.9–12.8)}; just the value for one repetition. */
	String format(int decimals) {
		if (this.repetitions == 0) {
			return "n/a";
		}
		String value = number(this.median, decimals);
		if (this.repetitions == 1 || this.min == this.max) {
			return value;
		}
		return value + " (" + number(this.min, decimals) + "–" + number(this.max, decimals) + ")";
	}

	static String number(double value, int decimals) {
		if (Double.isNaN(value)) {
			return "n/a";
		}
		if (Double.isInfinite(value)) {
			return "∞";
		}
		if (decimals == 0 && Math.abs(value) >= 1000) {
			return String.format(Locale.ROOT, "%,d", Math.round(value));
		}
		return String.format(Locale.ROOT, "%,." + decimals + "f", value);
	}

}
