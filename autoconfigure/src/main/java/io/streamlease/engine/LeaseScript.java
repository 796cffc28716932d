package io.streamlease.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.OptionalOptions;
import org.redisson.client.codec.StringCodec;

/**
 * One of the engine's Lua scripts (a {@code .lua} resource next to this class), run by SHA and loaded again
 * when the server answers NOSCRIPT (after a restart or a SCRIPT FLUSH).
 */
enum LeaseScript {

	ACQUIRE("acquire.lua", RScript.ReturnType.LIST),
	RENEW("renew.lua", RScript.ReturnType.LIST),
	FINISH("finish.lua", RScript.ReturnType.LIST),
	HANDOFF("handoff.lua", RScript.ReturnType.LONG),
	CHECKPOINT("checkpoint.lua", RScript.ReturnType.LIST),
	ATTEMPT("attempt.lua", RScript.ReturnType.LIST),
	DEAD_LETTER("dead-letter.lua", RScript.ReturnType.LIST),
	REGISTRY("registry.lua", RScript.ReturnType.LIST),
	SWEEP("sweep.lua", RScript.ReturnType.LIST),
	CLAIM_PENDING("claim-pending.lua", RScript.ReturnType.LIST),
	ADOPT("adopt.lua", RScript.ReturnType.LONG);

	private final String source;

	private final String sha;

	private final RScript.ReturnType returnType;

	LeaseScript(String resource, RScript.ReturnType returnType) {
		this.source = load(resource);
		this.sha = sha1(this.source);
		this.returnType = returnType;
	}

	/**
	 * Runs the script with the client's command timeout; the first key routes the call to its node (all keys of a
	 * service share one slot).
	 */
	<T> CompletableFuture<T> run(RedissonClient redisson, List<Object> keys, List<?> args) {
		return run(redisson, keys, args, null);
	}

	/**
	 * Runs the script, waiting at most {@code timeout} for the reply (null: the client's command timeout). The
	 * client never sends it again by itself, whatever its own retry settings: a late reply must not make a script
	 * run twice (the engine retries where that is safe).
	 */
	<T> CompletableFuture<T> run(RedissonClient redisson, List<Object> keys, List<?> args, Duration timeout) {
		OptionalOptions options = OptionalOptions.defaults().codec(StringCodec.INSTANCE).retryAttempts(0);
		if (timeout != null) {
			options = options.timeout(timeout);
		}
		RScript script = redisson.getScript(options);
		Object[] values = args.toArray();
		String routing = (String) keys.get(0);
		CompletableFuture<T> bySha = script.<T>evalShaAsync(routing, RScript.Mode.READ_WRITE, this.sha, this.returnType,
				keys, values).toCompletableFuture();
		return bySha.handle((result, failure) -> {
			if (failure == null) {
				return CompletableFuture.completedFuture(result);
			}
			if (isNoScript(failure)) {
				return script.<T>evalAsync(routing, RScript.Mode.READ_WRITE, this.source, this.returnType, keys, values)
					.toCompletableFuture();
			}
			return CompletableFuture.<T>failedFuture(unwrap(failure));
		}).thenCompose((next) -> next);
	}

	/**
	 * Runs the script and waits for its result.
	 */
	<T> T call(RedissonClient redisson, List<Object> keys, List<?> args) {
		try {
			return this.<T>run(redisson, keys, args).get();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new RedisCallException("interrupted while running " + name().toLowerCase() + ".lua", ex);
		}
		catch (ExecutionException ex) {
			Throwable cause = unwrap(ex);
			if (cause instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new RedisCallException(name().toLowerCase() + ".lua failed: " + cause.getMessage(), cause);
		}
	}

	static Throwable unwrap(Throwable failure) {
		Throwable cause = failure;
		while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
			cause = cause.getCause();
		}
		return cause;
	}

	private static boolean isNoScript(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause.getMessage() != null && cause.getMessage().contains("NOSCRIPT")) {
				return true;
			}
		}
		return false;
	}

	private static String load(String resource) {
		try (InputStream in = LeaseScript.class.getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("Lua script " + resource + " is missing from the classpath");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static String sha1(String text) {
		try {
			byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
			return HexFormat.of().formatHex(digest);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
