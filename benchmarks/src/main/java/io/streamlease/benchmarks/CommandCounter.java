package io.streamlease.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import org.redisson.client.NettyHook;
import org.redisson.client.protocol.CommandData;
import org.redisson.client.protocol.CommandsData;

/**
 * Counts, on the client side, every request a Redisson client sends: one per command, one per pipelined batch.
 * Script calls are named after the script ({@code EVALSHA renew.lua}), so the round trips of each renewal
 * mechanism can be told apart from everything else the client does. Installed as Redisson's {@link NettyHook}:
 * a handler at the tail of every connection's pipeline sees each command before it is encoded.
 */
final class CommandCounter implements NettyHook {

	private static final String[] ENGINE_SCRIPTS = { "acquire", "renew", "finish", "handoff", "checkpoint", "attempt",
			"dead-letter", "registry", "sweep", "claim-pending" };

	/** The script Redisson's lock watchdog sends (as EVAL) to extend a batch of locks. */
	static final String WATCHDOG_RENEWAL = "EVAL redisson-watchdog-renewal";

	static final String ENGINE_RENEWAL = "EVALSHA renew.lua";

	/** The prefix of scripts the counter does not know, followed by the first 8 characters of their SHA-1. */
	static final String OTHER_SCRIPT = "script ";

	private final Map<String, String> scriptsBySha = new ConcurrentHashMap<>();

	private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

	private final LongAdder requests = new LongAdder();

	CommandCounter() {
		for (String script : ENGINE_SCRIPTS) {
			String resource = "io/streamlease/engine/" + script + ".lua";
			this.scriptsBySha.put(sha1(load(resource)), script + ".lua");
		}
	}

	/** Names a script that the harness itself loads, so that its EVALSHA calls are counted under that name. */
	void nameScript(String source, String name) {
		this.scriptsBySha.put(sha1(source), name);
	}

	@Override
	public void afterBoostrapInitialization(Bootstrap bootstrap) {
	}

	@Override
	public void afterChannelInitialization(Channel channel) {
		channel.pipeline().addLast("benchmark-command-counter", new ChannelOutboundHandlerAdapter() {

			@Override
			public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) throws Exception {
				count(message);
				super.write(context, message, promise);
			}

		});
	}

	private void count(Object message) {
		if (message instanceof CommandsData batch) {
			this.requests.increment();
			increment("BATCH (pipelined)");
			for (CommandData<?, ?> command : batch.getCommands()) {
				increment("in batch: " + name(command));
			}
		}
		else if (message instanceof CommandData<?, ?> command) {
			this.requests.increment();
			increment(name(command));
		}
	}

	private String name(CommandData<?, ?> command) {
		String name = command.getCommand().getName();
		Object[] params = command.getParams();
		if (name.equals("EVALSHA") && params.length > 0) {
			String sha = text(params[0]);
			String named = this.scriptsBySha.get(sha);
			return "EVALSHA " + ((named != null) ? named : OTHER_SCRIPT + sha.substring(0, Math.min(8, sha.length())));
		}
		if (name.equals("EVAL") && params.length > 0) {
			String script = text(params[0]);
			if (script.contains("hexists") && script.contains("pexpire") && script.startsWith("local result = {}")) {
				return WATCHDOG_RENEWAL;
			}
			String sha = sha1(script);
			String named = this.scriptsBySha.get(sha);
			return "EVAL " + ((named != null) ? named : OTHER_SCRIPT + sha.substring(0, 8));
		}
		return name;
	}

	private void increment(String name) {
		this.counts.computeIfAbsent(name, (key) -> new LongAdder()).increment();
	}

	/** Every request sent so far (a pipelined batch counts once). */
	long requests() {
		return this.requests.sum();
	}

	long count(String name) {
		LongAdder adder = this.counts.get(name);
		return (adder != null) ? adder.sum() : 0;
	}

	/** A copy of the counts by command name. */
	Map<String, Long> snapshot() {
		Map<String, Long> copy = new TreeMap<>();
		this.counts.forEach((name, adder) -> copy.put(name, adder.sum()));
		return copy;
	}

	static Map<String, Long> difference(Map<String, Long> before, Map<String, Long> after) {
		Map<String, Long> difference = new LinkedHashMap<>();
		after.forEach((name, count) -> {
			long delta = count - before.getOrDefault(name, 0L);
			if (delta != 0) {
				difference.put(name, delta);
			}
		});
		return difference;
	}

	private static String text(Object value) {
		if (value instanceof byte[] bytes) {
			return new String(bytes, StandardCharsets.UTF_8);
		}
		if (value instanceof ByteBuf buffer) {
			return buffer.toString(buffer.readerIndex(), buffer.readableBytes(), StandardCharsets.UTF_8);
		}
		return String.valueOf(value);
	}

	static String load(String resource) {
		try (InputStream in = CommandCounter.class.getClassLoader().getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("Resource " + resource + " is missing from the classpath");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static String sha1(String text) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
