package io.streamlease.benchmarks;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.test.redis.RedisServer;

/**
 * Reads what a measurement window cost the Redis server from {@code INFO}: commands processed (which in Redis 7
 * include the commands run inside Lua scripts), calls per command from {@code commandstats}, CPU seconds
 * ({@code used_cpu_sys + used_cpu_user}) and memory.
 */
final class RedisProbe {

	private final RedisServer redis;

	RedisProbe(RedisServer redis) {
		this.redis = redis;
	}

	/** One reading of the server's counters. */
	record Snapshot(long nanos, long commandsProcessed, double cpuSeconds, long usedMemory, Map<String, Long> calls) {

		long calls(String command) {
			return this.calls.getOrDefault(command, 0L);
		}

	}

	/** The difference between two readings. */
	record Delta(double seconds, long commandsProcessed, double cpuSeconds, long scriptCalls, long memory) {

		double commandsPerSecond() {
			return this.commandsProcessed / this.seconds;
		}

		/** Redis CPU in percent of one core. */
		double cpuPercent() {
			return 100 * this.cpuSeconds / this.seconds;
		}

		double scriptCallsPerSecond() {
			return this.scriptCalls / this.seconds;
		}

	}

	Snapshot snapshot() {
		String info = (String) this.redis.command("INFO", "all");
		Map<String, String> fields = new LinkedHashMap<>();
		Map<String, Long> calls = new LinkedHashMap<>();
		for (String line : info.split("\r?\n")) {
			int colon = line.indexOf(':');
			if (colon <= 0 || line.startsWith("#")) {
				continue;
			}
			String name = line.substring(0, colon);
			String value = line.substring(colon + 1).trim();
			if (name.startsWith("cmdstat_")) {
				for (String part : value.split(",")) {
					if (part.startsWith("calls=")) {
						calls.put(name.substring("cmdstat_".length()), Long.parseLong(part.substring("calls=".length())));
					}
				}
			}
			else {
				fields.put(name, value);
			}
		}
		return new Snapshot(System.nanoTime(), Long.parseLong(fields.getOrDefault("total_commands_processed", "0")),
				Double.parseDouble(fields.getOrDefault("used_cpu_sys", "0")) + Double.parseDouble(fields.getOrDefault("used_cpu_user", "0")),
				Long.parseLong(fields.getOrDefault("used_memory", "0")), calls);
	}

	static Delta delta(Snapshot before, Snapshot after) {
		long scripts = 0;
		for (String command : List.of("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall")) {
			scripts += after.calls(command) - before.calls(command);
		}
		return new Delta((after.nanos() - before.nanos()) / 1e9, after.commandsProcessed() - before.commandsProcessed(),
				after.cpuSeconds() - before.cpuSeconds(), scripts, after.usedMemory() - before.usedMemory());
	}

	/** The server's version and a few settings worth reporting. */
	Map<String, String> describe() {
		String info = (String) this.redis.command("INFO", "server");
		Map<String, String> described = new LinkedHashMap<>();
		for (String line : info.split("\r?\n")) {
			if (line.startsWith("redis_version:") || line.startsWith("hz:") || line.startsWith("multiplexing_api:")) {
				int colon = line.indexOf(':');
				described.put(line.substring(0, colon), line.substring(colon + 1).trim());
			}
		}
		described.put("backend", this.redis.backend().name().toLowerCase());
		return described;
	}

	void flush() {
		this.redis.command("FLUSHALL");
	}

	RedisServer server() {
		return this.redis;
	}

}
