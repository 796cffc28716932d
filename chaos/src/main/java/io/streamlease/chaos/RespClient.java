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

/**
 * A small RESP2 client on one socket, for the harness's own reads and writes: it does not depend on the client
 * under test, and its behaviour during Redis faults is plain: every call is bounded by the timeout, and a call that
 * fails on the network closes the socket and throws {@link UncheckedIOException}; the next call reconnects.
 * Replies map to {@link String}, {@link Long}, {@link List} and {@code null}; an error reply throws
 * {@link RedisErrorException} (or, in a pipeline, is returned as one). Thread-safe (calls are serialised).
 */
final class RespClient implements AutoCloseable {

	private final String host;

	private final int port;

	private final int timeoutMillis;

	private Socket socket;

	private InputStream in;

	private OutputStream out;

	RespClient(String host, int port, Duration timeout) {
		this.host = host;
		this.port = port;
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
			return replies;
		}
		catch (IOException ex) {
			disconnect();
			throw new UncheckedIOException("Redis " + this.host + ":" + this.port + " did not answer: " + ex, ex);
		}
	}

	/**
	 * Whether a failed call may succeed when tried again: Redis unreachable or not answering, or answering that it
	 * is still loading its data set after a restart (LOADING) or busy with a script (BUSY).
	 */
	static boolean isTransient(RuntimeException ex) {
		if (ex instanceof UncheckedIOException) {
			return true;
		}
		if (ex instanceof RedisErrorException error) {
			String message = String.valueOf(error.getMessage());
			return message.startsWith("LOADING") || message.startsWith("BUSY");
		}
		return false;
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
		Socket created = new Socket();
		try {
			created.setTcpNoDelay(true);
			created.connect(new InetSocketAddress(this.host, this.port), this.timeoutMillis);
			created.setSoTimeout(this.timeoutMillis);
			this.in = new BufferedInputStream(created.getInputStream(), 64 * 1024);
			this.out = created.getOutputStream();
			this.socket = created;
		}
		catch (IOException ex) {
			created.close();
			throw ex;
		}
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
