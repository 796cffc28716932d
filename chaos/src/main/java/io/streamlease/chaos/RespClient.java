package io.streamlease.chaos;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A small RESP2 client on one socket, for the harness's own reads and writes: it does not depend on the client
 * under test, and its behaviour during Redis faults is plain: every call is bounded by the timeout, and a call that
 * fails on the network closes the socket and throws {@link UncheckedIOException}; the next call reconnects.
 * Replies map to {@link String}, {@link Long}, {@link List} and {@code null}; an error reply throws
 * {@link RedisErrorException} (or, in a pipeline, is returned as one). Thread-safe (calls are serialised).
 * <p>
 * The address is looked up on every (re)connection, so a client can follow the master of a Sentinel group: with
 * {@code requireMaster} it checks {@code ROLE} after connecting and refuses a replica (a transient failure), and an
 * error reply that says the server is no longer a writable master ({@code READONLY}, {@code MASTERDOWN}) closes the
 * socket, so that the next call looks the master up again.
 */
final class RespClient implements AutoCloseable {

	private final Supplier<InetSocketAddress> address;

	private final boolean requireMaster;

	private final int timeoutMillis;

	private InetSocketAddress connected;

	private Socket socket;

	private InputStream in;

	private OutputStream out;

	RespClient(String host, int port, Duration timeout) {
		this(() -> new InetSocketAddress(host, port), false, timeout);
	}

	/**
	 * @param address where to connect, asked again on every (re)connection; it may throw
	 * {@link UncheckedIOException} when it cannot tell (no Sentinel answers)
	 * @param requireMaster whether to refuse a server that is not a master ({@code ROLE})
	 * @param timeout the connect and read timeout of every call
	 */
	RespClient(Supplier<InetSocketAddress> address, boolean requireMaster, Duration timeout) {
		this.address = address;
		this.requireMaster = requireMaster;
		this.timeoutMillis = (int) Math.max(1, timeout.toMillis());
	}

	/**
	 * Sends one command and returns its reply.
	 * @throws RedisErrorException on an error reply
	 * @throws UncheckedIOException when Redis cannot be reached or does not answer in time
	 */
	synchronized Object call(String... command) {
		Object reply = pipeline(List.<String[]>of(command)).get(0);
		if (reply instanceof RedisErrorException error) {
			throw new RedisErrorException(error.getMessage() + " (reply to " + command[0] + ")");
		}
		return reply;
	}

	/**
	 * Sends the commands at once and returns their replies in order; an error reply is returned as a
	 * {@link RedisErrorException}, not thrown.
	 * @throws UncheckedIOException when Redis cannot be reached or does not answer in time
	 */
	synchronized List<Object> pipeline(List<String[]> commands) {
		try {
			connect();
			ByteArrayOutputStream buffer = new ByteArrayOutputStream();
			for (String[] command : commands) {
				encode(command, buffer);
			}
			this.out.write(buffer.toByteArray());
			this.out.flush();
			List<Object> replies = new ArrayList<>(commands.size());
			for (int i = 0; i < commands.size(); i++) {
				replies.add(read());
			}
			for (Object reply : replies) {
				if (reply instanceof RedisErrorException error && notMaster(error.getMessage())) {
					// a demoted master: look the master up again on the next call
					disconnect();
					break;
				}
			}
			return replies;
		}
		catch (IOException ex) {
			InetSocketAddress where = this.connected;
			disconnect();
			throw new UncheckedIOException("Redis " + ((where != null) ? where.getHostString() + ":" + where.getPort()
					: "(not connected)") + " did not answer: " + ex, ex);
		}
	}

	private static boolean notMaster(String message) {
		return message != null && (message.startsWith("READONLY") || message.startsWith("MASTERDOWN")
				|| message.startsWith("UNBLOCKED"));
	}

	/**
	 * Whether a failed call may succeed when tried again: Redis unreachable or not answering, or answering that it
	 * is still loading its data set after a restart (LOADING), busy with a script (BUSY), or no longer the master
	 * during a failover (READONLY, MASTERDOWN, UNBLOCKED).
	 */
	static boolean isTransient(RuntimeException ex) {
		if (ex instanceof UncheckedIOException) {
			return true;
		}
		if (ex instanceof RedisErrorException error) {
			String message = String.valueOf(error.getMessage());
			return message.startsWith("LOADING") || message.startsWith("BUSY") || notMaster(message);
		}
		return false;
	}

	/**
	 * Makes the writes made so far on this connection durable across a failover, as a careful producer would: waits
	 * until a replica of this master has them ({@code WAIT 1 1000}, as often as it takes, at most {@code patience}).
	 * A master without a connected replica is not durable and is waited out too: right after a failover the promoted
	 * replica has none until the Sentinels demote the restarted old master (8 to 15 s later), and until then that old
	 * master, still answering as a master with its stale data, is a replica in the Sentinels' eyes and a candidate for
	 * promotion: should the new master stop answering for {@code down-after-milliseconds}, the Sentinels fail back to
	 * it and every write the new master acknowledged meanwhile is gone.
	 * @return true once a replica has the writes; false when the connection failed, or its server is no longer the
	 * master the Sentinels report (the writes may be lost: write them again)
	 * @throws IllegalStateException when no replica had them within {@code patience}
	 */
	boolean waitForReplica(Duration patience) {
		long deadline = System.nanoTime() + patience.toNanos();
		try {
			while (true) {
				String info = String.valueOf(call("INFO", "replication"));
				if (!"master".equals(infoField(info, "role")) || (this.requireMaster && !isReportedMaster())) {
					// demoted, or a failover moved the master elsewhere while this socket stayed open
					reconnectLater();
					return false;
				}
				boolean replicaConnected = Long.parseLong(infoField(info, "connected_slaves")) > 0;
				if (replicaConnected && (Long) call("WAIT", "1", "1000") >= 1) {
					return true;
				}
				if (System.nanoTime() - deadline > 0) {
					throw new IllegalStateException("No replica of " + this.connected + " acknowledged the writes within "
							+ patience.toSeconds() + " s (INFO replication: " + info.lines().toList() + ")");
				}
				if (!replicaConnected) {
					SampleInstance.sleep(100);
				}
			}
		}
		catch (RedisErrorException ex) {
			if (isTransient(ex) || String.valueOf(ex.getMessage()).contains("replica")) {
				// WAIT on a server demoted since INFO: "WAIT cannot be used with replica instances"
				reconnectLater();
				return false;
			}
			throw ex;
		}
		catch (UncheckedIOException ex) {
			return false;
		}
	}

	/** Closes the socket, so that the next call looks the master up again. */
	private synchronized void reconnectLater() {
		disconnect();
	}

	private synchronized boolean isReportedMaster() {
		InetSocketAddress reported = this.address.get();
		return this.connected != null && reported.getPort() == this.connected.getPort()
				&& reported.getHostString().equals(this.connected.getHostString());
	}

	private static String infoField(String info, String field) {
		return info.lines()
			.filter((line) -> line.startsWith(field + ":"))
			.map((line) -> line.substring(field.length() + 1).trim())
			.findFirst()
			.orElse("");
	}

	/**
	 * HGETALL as a map.
	 */
	Map<String, String> hash(String key) {
		return fields((List<?>) call("HGETALL", key));
	}

	/**
	 * A flat list of field, value, field, value... as a map (later duplicates win).
	 */
	static Map<String, String> fields(List<?> flat) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i + 1 < flat.size(); i += 2) {
			map.put(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)));
		}
		return map;
	}

	@Override
	public synchronized void close() {
		disconnect();
	}

	private void connect() throws IOException {
		if (this.socket != null) {
			return;
		}
		InetSocketAddress target;
		try {
			target = this.address.get();
		}
		catch (UncheckedIOException ex) {
			throw ex.getCause();
		}
		Socket created = new Socket();
		try {
			created.setTcpNoDelay(true);
			created.connect(target, this.timeoutMillis);
			created.setSoTimeout(this.timeoutMillis);
			this.in = new BufferedInputStream(created.getInputStream(), 64 * 1024);
			this.out = created.getOutputStream();
			this.socket = created;
			this.connected = target;
			if (this.requireMaster) {
				encodeAndSend(new String[] { "ROLE" });
				Object role = read();
				if (!(role instanceof List<?> fields) || fields.isEmpty() || !"master".equals(fields.get(0))) {
					throw new IOException(target + " is not the master (ROLE " + role + ")");
				}
			}
		}
		catch (IOException ex) {
			disconnect();
			created.close();
			throw ex;
		}
	}

	private void encodeAndSend(String[] command) throws IOException {
		ByteArrayOutputStream buffer = new ByteArrayOutputStream();
		encode(command, buffer);
		this.out.write(buffer.toByteArray());
		this.out.flush();
	}

	private void disconnect() {
		if (this.socket != null) {
			try {
				this.socket.close();
			}
			catch (IOException ex) {
				// closing anyway
			}
			this.socket = null;
			this.in = null;
			this.out = null;
			this.connected = null;
		}
	}

	private static void encode(String[] command, ByteArrayOutputStream buffer) {
		buffer.writeBytes(("*" + command.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
		for (String argument : command) {
			byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
			buffer.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
			buffer.writeBytes(bytes);
			buffer.writeBytes(new byte[] { '\r', '\n' });
		}
	}

	private Object read() throws IOException {
		int type = this.in.read();
		if (type < 0) {
			throw new EOFException("connection closed by Redis");
		}
		String line = readLine();
		switch (type) {
			case '+':
				return line;
			case '-':
				return new RedisErrorException(line);
			case ':':
				return Long.parseLong(line);
			case '$': {
				int length = Integer.parseInt(line);
				if (length < 0) {
					return null;
				}
				byte[] bytes = this.in.readNBytes(length);
				if (bytes.length < length || this.in.read() != '\r' || this.in.read() != '\n') {
					throw new EOFException("truncated bulk string");
				}
				return new String(bytes, StandardCharsets.UTF_8);
			}
			case '*': {
				int count = Integer.parseInt(line);
				if (count < 0) {
					return null;
				}
				List<Object> items = new ArrayList<>(count);
				for (int i = 0; i < count; i++) {
					items.add(read());
				}
				return items;
			}
			default:
				throw new IOException("unexpected RESP type '" + (char) type + "'");
		}
	}

	private String readLine() throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		while (true) {
			int b = this.in.read();
			if (b < 0) {
				throw new EOFException("connection closed by Redis");
			}
			if (b == '\r') {
				if (this.in.read() != '\n') {
					throw new IOException("malformed RESP line");
				}
				return line.toString(StandardCharsets.UTF_8);
			}
			line.write(b);
		}
	}

	/**
	 * An error reply from Redis.
	 */
	static final class RedisErrorException extends RuntimeException {

		private static final long serialVersionUID = 1L;

		RedisErrorException(String message) {
			super(message);
		}

	}

}
