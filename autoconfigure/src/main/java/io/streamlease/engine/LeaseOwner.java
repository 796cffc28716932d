package io.streamlease.engine;

import java.util.function.Consumer;

import io.streamlease.LeasedStream;
import io.streamlease.LeaseLostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This consumer as the owner of its held leases, what every {@link Lease} calls back: finishes a stream (fenced;
 * while Redis does not answer the stream stays held and finishing is retried in the background, so that it never
 * stays owned, unfinished, by a consumer that moved on), disowns a lease that was lost (DISOWNED event), and
 * describes who holds a stream that a fenced write was refused for.
 */
final class LeaseOwner implements Lease.Owner {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	private final EngineSettings settings;

	private final LeaseStore store;

	private final HeldStreams held;

	private final EventChannel events;

	private final EngineStatus status;

	private final EngineRuntime runtime;

	private final RedisFailures failures;

	private volatile Consumer<LeasedStream> yieldListener = (lease) -> {
	};

	LeaseOwner(EngineSettings settings, LeaseStore store, HeldStreams held, EventChannel events, EngineStatus status,
			EngineRuntime runtime, RedisFailures failures) {
		this.settings = settings;
		this.store = store;
		this.held = held;
		this.events = events;
		this.status = status;
		this.runtime = runtime;
		this.failures = failures;
	}

	/** Sets the one listener told of yield requests (see {@link StreamLeaseEngine#onYieldRequested}). */
	void onYieldRequested(Consumer<LeasedStream> listener) {
		this.yieldListener = (listener != null) ? listener : (lease) -> {
		};
	}

	@Override
	public void yieldRequested(Lease lease) {
		try {
			this.yieldListener.accept(lease);
		}
		catch (RuntimeException ex) {
			logger.warn("The yield listener failed on stream '{}'", lease.name(), ex);
		}
	}

	@Override
	public String consumerId() {
		return this.settings.consumerId();
	}

	@Override
	public LeaseStore store() {
		return this.store;
	}

	@Override
	public void finish(Lease lease) {
		lease.ensureOwned("finish");
		LeaseStore.Finish reply;
		try {
			reply = this.store.finish(lease.name(), lease.record(), this.settings.checkpointRetention());
		}
		catch (RuntimeException ex) {
			if (RedisFault.of(ex).fatal() || !this.runtime.isRunning()) {
				throw ex;
			}
			// the stream stays held (its session keeps it): finishing is retried until it succeeds or the stream is
			// lost, so that it can never stay owned, unfinished, by a consumer that moved on
			lease.finishing = true;
			retryFinish(lease, 1);
			throw new RedisCallException("Could not finish stream '" + lease.name() + "' now (" + ex.getMessage()
					+ "); consumer '" + consumerId() + "' keeps it and finishes it as soon as Redis answers", ex);
		}
		completeFinish(lease, reply);
	}

	private void retryFinish(Lease lease, int attempt) {
		this.runtime.retryLater(() -> {
			if (lease.state() != Lease.State.HELD || !this.runtime.isRunning()) {
				return;
			}
			try {
				completeFinish(lease, this.store.finish(lease.name(), lease.record(), this.settings.checkpointRetention()));
				logger.info("Finished stream '{}' of service '{}' after {} retries", lease.name(),
						this.settings.serviceName(), attempt);
			}
			catch (LeaseLostException ex) {
				logger.debug("Stream '{}' was lost before it could be finished", lease.name());
			}
			catch (RuntimeException ex) {
				if (this.failures.failed("finishing stream '" + lease.name() + "' (retry " + attempt + ")", ex)) {
					retryFinish(lease, attempt + 1);
				}
			}
		}, attempt);
	}

	private void completeFinish(Lease lease, LeaseStore.Finish reply) {
		if (reply.status() == LeaseStore.FinishStatus.NOT_OWNER) {
			disown(lease, "finishing found the stream " + describeHolder(reply.detail()));
			throw lease.lost("finish", reply.detail());
		}
		// DONE, RESUBMITTED, or FINISHED (this call was repeated after a lost reply: the first one finished it)
		if (lease.end(Lease.State.DONE)) {
			this.held.remove(lease);
		}
		this.status.completed(lease);
		if (reply.status() == LeaseStore.FinishStatus.RESUBMITTED) {
			logger.debug("Stream '{}' finished; it was submitted again meanwhile, so it is announced again as {}",
					lease.name(), reply.detail());
		}
	}

	@Override
	public boolean disown(Lease lease, String reason) {
		if (!lease.end(Lease.State.DISOWNED)) {
			return false;
		}
		this.held.remove(lease);
		this.status.disowned(lease, reason);
		this.events.add(StreamEvent.disowned(lease, reason));
		logger.warn("Consumer '{}' lost stream '{}' (fencing token {}): {}", consumerId(), lease.name(),
				lease.fencingToken(), reason);
		return true;
	}

	/**
	 * Disowns every held stream at once (the session is gone, or may be).
	 * @return how many were disowned
	 */
	int disownAll(String reason) {
		int count = 0;
		for (Lease lease : this.held.snapshot()) {
			if (disown(lease, reason)) {
				count++;
			}
		}
		return count;
	}

	@Override
	public String describeHolder(String record) {
		OwnershipRecord parsed = OwnershipRecord.parse(record);
		String consumer = null;
		if (parsed != null) {
			try {
				consumer = this.store.consumerOf(parsed.sessionId());
			}
			catch (RuntimeException ex) {
				logger.debug("Could not look up the holder of session {}", parsed.sessionId(), ex);
			}
		}
		return OwnershipRecord.describe(record, consumer);
	}

	/**
	 * The held lease of {@code stream}.
	 * @throws LeaseLostException if this consumer does not hold it (or holds a newer lease of the stream)
	 */
	Lease own(LeasedStream stream) {
		Lease lease = this.held.get(stream.name());
		if (lease == null || lease != stream) {
			throw new LeaseLostException(stream.name(), "Consumer '" + consumerId() + "' does not hold the lease of stream '"
					+ stream.name() + "' (fencing token " + stream.fencingToken() + ")");
		}
		return lease;
	}

}
