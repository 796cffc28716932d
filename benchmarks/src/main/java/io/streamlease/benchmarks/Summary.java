package io.streamlease.benchmarks;

import java.util.Arrays;
import java.util.Collection;

import org.HdrHistogram.Histogram;

/**
 * Percentiles of a set of samples (nearest-rank), in the samples' unit.
 *
 * @param count how many samples
 * @param min the smallest
 * @param p50 the median
 * @param p90 the 90th percentile
 * @param p99 the 99th percentile
 * @param max the largest
 */
record Summary(long count, double min, double p50, double p90, double p99, double max) {

	static final Summary EMPTY = new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

	static Summary of(Collection<? extends Number> values) {
		double[] array = values.stream().mapToDouble(Number::doubleValue).toArray();
		return of(array);
	}

	static Summary of(double[] values) {
		if (values.length == 0) {
			return EMPTY;
		}
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		return new Summary(sorted.length, sorted[0], rank(sorted, 50), rank(sorted, 90), rank(sorted, 99),
				sorted[sorted.length - 1]);
	}

	/** From a histogram recorded in microseconds, in milliseconds. */
	static Summary ofMicros(Histogram histogram) {
		if (histogram.getTotalCount() == 0) {
			return EMPTY;
		}
		return new Summary(histogram.getTotalCount(), histogram.getMinValue() / 1000.0,
				histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(90) / 1000.0,
				histogram.getValueAtPercentile(99) / 1000.0, histogram.getMaxValue() / 1000.0);
	}

	static double rank(double[] sorted, double percentile) {
		int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
		return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
	}

	static double median(Collection<? extends Number> values) {
		return of(values).p50();
	}

}
