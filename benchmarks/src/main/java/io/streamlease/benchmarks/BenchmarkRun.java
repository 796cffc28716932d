package io.streamlease.benchmarks;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything one run measured, with what the report needs to say about the machine and the code. A scenario
 * that was not run is null.
 *
 * @param options the options of the run
 * @param command the command line that ran it
 * @param commit the commit measured
 * @param machine the machine
 * @param redis the Redis server
 * @param startedAt when the run started
 * @param seconds how long it took
 * @param loadAverages the one-minute load average before each scenario and at the end
 * @param renewal scenario 1
 * @param failover scenario 2
 * @param handoff scenario 3
 * @param dispatch scenario 4
 * @param entryLevel scenario 5
 * @param cluster the renewal and failover scenarios on a Redis Cluster
 * @param reading entry-level reading options, the reading pattern alone (scenario "reading")
 * @param shipped the sample-app jar as shipped, measured from outside (scenario "shipped")
 * @param mergedRuns later runs of some scenarios whose results were merged into these ({@code --merge}): for each,
 * its command, commit, start, duration, scenarios and load averages
 */
record BenchmarkRun(BenchmarkOptions options, String command, String commit, Map<String, String> machine,
		Map<String, String> redis, Instant startedAt, double seconds, Map<String, Double> loadAverages,
		RenewalBenchmark.Results renewal, List<FailoverBenchmark.Case> failover, List<HandoffBenchmark.Case> handoff,
		DispatchBenchmark.Results dispatch, List<EntryLevelBenchmark.Run> entryLevel, ClusterBenchmark.Results cluster,
		List<EntryReadingCost.Row> reading, ShippedProductBenchmark.Results shipped, List<Map<String, Object>> mergedRuns) {
}
