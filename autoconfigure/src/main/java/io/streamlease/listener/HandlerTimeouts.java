package io.streamlease.listener;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.streamlease.HandlerFailedException;
import io.streamlease.HandlerTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches handler invocations for {@code stream-lease.handler.timeout}: an invocation that runs longer is cancelled
 * (its thread interrupted, or the future it returned cancelled) with one WARN line, and its outcome, whatever it
 * is, becomes a {@link HandlerTimeoutException} for the error policy. The failure is handled once the invocation
 * returns, so a handler that ignores the interrupt is never run twice on the same stream at once.
 */
final class HandlerTimeouts {

	private static final Logger logger = LoggerFactory.getLogger(HandlerTimeouts.class);

	private final Duration timeout;

	private final ScheduledExecutorService scheduler;

	private final StreamHandlerEndpoint endpoint;

	/**
	 * @param timeout the timeout, or null (or zero) for none
	 * @param scheduler the thread that fires the timeouts
	 * @param endpoint the handler, for messages
	 */
	HandlerTimeouts(Duration timeout, ScheduledExecutorService scheduler, StreamHandlerEndpoint endpoint) {
		this.timeout = (timeout != null && !timeout.isZero() && !timeout.isNegative()) ? timeout : null;
		this.scheduler = scheduler;
		this.endpoint = endpoint;
	}

	/**
	 * Starts watching an invocation on the current thread.
	 * @param stream the stream
	 * @param where where in the stream (entry-level: " at entry <id>"), or ""
	 */
	Watch start(String stream, String where) {
		Watch watch = new Watch(stream, where, Thread.currentThread());
		if (this.timeout != null) {
			try {
				watch.timer = this.scheduler.schedule(watch::expire, this.timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
			catch (RejectedExecutionException ex) {
				// stopping: the container cancels every run anyway
			}
		}
		return watch;
	}

	/**
	 * One watched invocation.
	 */
	final class Watch {

		private final String stream;

		private final String where;

		private final Thread worker;

		private volatile ScheduledFuture<?> timer;

		/** The future the method returned, cancelled instead of interrupting the worker; guarded by this. */
		private CompletionStage<?> pending;

		private boolean ended;

		private boolean timedOut;

		private boolean interrupted;

		Watch(String stream, String where, Thread worker) {
			this.stream = stream;
			this.where = where;
			this.worker = worker;
		}

		/**
		 * The method returned a future: a timeout from now on cancels it instead of interrupting the worker.
		 * @return false if the invocation already timed out (call {@link #end()} and treat it as failed)
		 */
		synchronized boolean completesWith(CompletionStage<?> stage) {
			if (this.timedOut) {
				stage.toCompletableFuture().cancel(true);
				return false;
			}
			this.pending = stage;
			return true;
		}

		/**
		 * Ends the watch. On the worker thread, clears the interrupt that the timeout sent.
		 * @return true when the invocation ended in time
		 */
		boolean end() {
			boolean inTime;
			boolean clear;
			synchronized (this) {
				this.ended = true;
				inTime = !this.timedOut;
				clear = this.interrupted && Thread.currentThread() == this.worker;
				this.interrupted = false;
			}
			ScheduledFuture<?> scheduled = this.timer;
			if (scheduled != null) {
				scheduled.cancel(false);
			}
			if (clear) {
				Thread.interrupted();
			}
			return inTime;
		}

		/**
		 * The failure of a timed-out invocation.
		 * @param outcome what the invocation threw or completed with, or null if it returned normally
		 */
		HandlerTimeoutException failure(Throwable outcome) {
			Throwable cause = (outcome instanceof HandlerFailedException failed && failed.getCause() != null)
					? failed.getCause() : outcome;
			return new HandlerTimeoutException("@StreamHandler method " + HandlerTimeouts.this.endpoint.describe()
					+ " exceeded stream-lease.handler.timeout (" + HandlerTimeouts.this.timeout + ") on stream '"
					+ this.stream + "'" + this.where, this.stream, HandlerTimeouts.this.timeout, cause);
		}

		private void expire() {
			CompletionStage<?> toCancel;
			synchronized (this) {
				if (this.ended) {
					return;
				}
				this.timedOut = true;
				toCancel = this.pending;
				if (toCancel == null) {
					this.interrupted = true;
					this.worker.interrupt();
				}
			}
			logger.warn("@StreamHandler '{}' ({}) of service '{}' exceeded stream-lease.handler.timeout ({}) on stream "
					+ "'{}'{}: cancelled it; the attempt counts as failed", HandlerTimeouts.this.endpoint.getId(),
					HandlerTimeouts.this.endpoint.describe(), HandlerTimeouts.this.endpoint.getService(),
					HandlerTimeouts.this.timeout, this.stream, this.where);
			if (toCancel != null) {
				toCancel.toCompletableFuture().cancel(true);
			}
		}

	}

}
