package io.streamlease.annotation;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streamlease.StreamHandler;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.InvalidSettingException;
import io.streamlease.listener.StreamHandlerEndpoint;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.Environment;
import org.springframework.messaging.handler.annotation.support.MessageHandlerMethodFactory;
import org.springframework.util.StringUtils;

/**
 * Finds @StreamHandler methods and registers them as endpoints with the {@link StreamHandlerEndpointRegistry}
 * once every singleton exists. The service comes from the annotation ({@code ${...}} resolved), else
 * {@code stream-lease.service-name}, else {@code spring.application.name}. The per-handler settings (attempts,
 * back-off, concurrency cap) are resolved and checked here; an invalid one fails startup naming the method, the
 * attribute and the value.
 */
public class StreamHandlerAnnotationBeanPostProcessor
		implements BeanPostProcessor, BeanFactoryAware, EnvironmentAware, SmartInitializingSingleton {

	/** The bean name of the factory that creates handler method invokers; define one to add argument resolvers. */
	public static final String HANDLER_METHOD_FACTORY_BEAN_NAME = "streamLeaseHandlerMethodFactory";

	private final List<Found> found = new ArrayList<>();

	private BeanFactory beanFactory;

	private Environment environment;

	private record Found(String beanName, Object bean, Method method, StreamHandler annotation) {
	}

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = environment;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		Class<?> targetClass = AopUtils.getTargetClass(bean);
		Map<Method, StreamHandler> methods = MethodIntrospector.selectMethods(targetClass,
				(MethodIntrospector.MetadataLookup<StreamHandler>) (method) -> AnnotatedElementUtils
					.findMergedAnnotation(method, StreamHandler.class));
		methods.forEach((method, annotation) -> {
			Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
			synchronized (this.found) {
				this.found.add(new Found(beanName, bean, invocable, annotation));
			}
		});
		return bean;
	}

	@Override
	public void afterSingletonsInstantiated() {
		StreamHandlerEndpointRegistry registry = this.beanFactory.getBean(StreamHandlerEndpointRegistry.class);
		MessageHandlerMethodFactory methods = this.beanFactory.getBean(HANDLER_METHOD_FACTORY_BEAN_NAME,
				MessageHandlerMethodFactory.class);
		synchronized (this.found) {
			for (Found handler : this.found) {
				String service = service(handler);
				String id = StringUtils.hasText(handler.annotation().id())
						? this.environment.resolvePlaceholders(handler.annotation().id())
						: handler.beanName() + "." + handler.method().getName();
				StreamHandlerEndpoint endpoint = new StreamHandlerEndpoint(id, service, handler.bean(), handler.method(),
						methods.createInvocableHandlerMethod(handler.bean(), handler.method()), overrides(handler));
				endpoint.setAutoStartup(autoStartup(handler));
				registry.registerEndpoint(endpoint);
			}
			this.found.clear();
		}
	}

	private StreamHandlerEndpoint.Overrides overrides(Found handler) {
		StreamHandler annotation = handler.annotation();
		Integer maxAttempts = positiveInteger(handler, "maxAttempts", annotation.maxAttempts());
		Duration initialBackoff = positiveDuration(handler, "initialBackoff", annotation.initialBackoff());
		Duration maxBackoff = positiveDuration(handler, "maxBackoff", annotation.maxBackoff());
		Integer maxConcurrentStreams = positiveInteger(handler, "maxConcurrentStreams", annotation.maxConcurrentStreams());
		return new StreamHandlerEndpoint.Overrides(maxAttempts, initialBackoff, maxBackoff, maxConcurrentStreams);
	}

	private Integer positiveInteger(Found handler, String attribute, String declared) {
		String value = this.environment.resolveRequiredPlaceholders(declared).trim();
		if (value.isEmpty()) {
			return null;
		}
		try {
			int parsed = Integer.parseInt(value);
			if (parsed > 0) {
				return parsed;
			}
		}
		catch (NumberFormatException ex) {
			// reported below
		}
		throw invalidAttribute(handler, attribute, declared, value, "it must be a whole number greater than 0");
	}

	private Duration positiveDuration(Found handler, String attribute, String declared) {
		String value = this.environment.resolveRequiredPlaceholders(declared).trim();
		if (value.isEmpty()) {
			return null;
		}
		try {
			Duration parsed = DurationStyle.detectAndParse(value);
			if (!parsed.isNegative() && !parsed.isZero()) {
				return parsed;
			}
		}
		catch (IllegalArgumentException ex) {
			// reported below
		}
		throw invalidAttribute(handler, attribute, declared, value,
				"it must be a duration greater than 0, such as 500ms, 2s or PT2S");
	}

	private static IllegalStateException invalidAttribute(Found handler, String attribute, String declared,
			String value, String rule) {
		String shown = declared.equals(value) ? "\"" + declared + "\"" : "\"" + declared + "\" (\"" + value + "\")";
		return new IllegalStateException("@StreamHandler(" + attribute + " = " + shown + ") on "
				+ handler.method().getDeclaringClass().getSimpleName() + "." + handler.method().getName() + "() is invalid: "
				+ rule);
	}

	private boolean autoStartup(Found handler) {
		String declared = handler.annotation().autoStartup();
		String resolved = this.environment.resolveRequiredPlaceholders(declared).trim();
		if ("true".equalsIgnoreCase(resolved)) {
			return true;
		}
		if ("false".equalsIgnoreCase(resolved)) {
			return false;
		}
		throw invalidAttribute(handler, "autoStartup", declared, resolved, "it must be true or false");
	}

	private String service(Found handler) {
		String declared = this.environment.resolveRequiredPlaceholders(handler.annotation().service());
		if (StringUtils.hasText(declared)) {
			try {
				EngineSettings.builder(declared, "check").build();
			}
			catch (InvalidSettingException ex) {
				throw new IllegalStateException("@StreamHandler(service = \"" + handler.annotation().service() + "\") on "
						+ handler.method().getDeclaringClass().getSimpleName() + "." + handler.method().getName()
						+ "() names an invalid service: " + ex.getMessage(), ex);
			}
			return declared;
		}
		String configured = this.environment.getProperty("stream-lease.service-name",
				this.environment.getProperty("spring.application.name"));
		if (!StringUtils.hasText(configured)) {
			throw new IllegalStateException("@StreamHandler method " + handler.method().getDeclaringClass().getSimpleName()
					+ "." + handler.method().getName() + "() names no service, and neither stream-lease.service-name nor "
					+ "spring.application.name is set: set one of them, or the annotation's service attribute");
		}
		return configured;
	}

}
