package io.streamlease.architecture;

import java.net.URISyntaxException;
import java.nio.file.Path;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import io.streamlease.LeasedStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The layers of the module, one direction of dependency: autoconfigure → annotation → listener → engine, the
 * producer template ({@code core}) over the engine, and the user API (the root package {@code io.streamlease})
 * usable by all. The engine must run in plain Java with only a {@code RedissonClient}, so it uses nothing of
 * Spring, not even through the API types it shares with users.
 */
class LayeringTests {

	private static final String SPRING = "org.springframework..";

	private static JavaClasses mainClasses;

	@BeforeAll
	static void importMainClasses() throws URISyntaxException {
		// the module's own classes only (target/classes), not its tests nor test-support
		Path location = Path.of(LeasedStream.class.getProtectionDomain().getCodeSource().getLocation().toURI());
		mainClasses = new ClassFileImporter().importPath(location);
	}

	@Test
	void theEngineDependsOnNothingOfSpring() {
		ArchRule rule = noClasses().that()
			.resideInAPackage("io.streamlease.engine..")
			.should()
			.transitivelyDependOnClassesThat()
			.resideInAPackage(SPRING)
			.because("the engine must be usable from plain Java with only a RedissonClient (ARCHITECTURE.md)");
		rule.check(mainClasses);
	}

	@Test
	void theUserApiAndTheProducerTemplateDependOnNothingOfSpring() {
		ArchRule rule = noClasses().that()
			.resideInAnyPackage("io.streamlease", "io.streamlease.core..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage(SPRING)
			.because("their package descriptions promise it, and the engine uses the API types");
		rule.check(mainClasses);
	}

	@Test
	void layersDependOnlyOnTheLayersBelowThem() {
		ArchRule rule = layeredArchitecture().consideringOnlyDependenciesInLayers()
			.layer("Autoconfigure").definedBy("io.streamlease.autoconfigure..")
			.layer("Annotation").definedBy("io.streamlease.annotation..")
			.layer("Listener").definedBy("io.streamlease.listener..")
			.layer("Producer").definedBy("io.streamlease.core..")
			.layer("Engine").definedBy("io.streamlease.engine..")
			.layer("API").definedBy("io.streamlease")
			.whereLayer("Autoconfigure").mayNotBeAccessedByAnyLayer()
			.whereLayer("Annotation").mayOnlyBeAccessedByLayers("Autoconfigure")
			.whereLayer("Listener").mayOnlyBeAccessedByLayers("Annotation", "Autoconfigure")
			.whereLayer("Producer").mayOnlyAccessLayers("Engine", "API")
			.whereLayer("Engine").mayOnlyAccessLayers("API")
			.whereLayer("API").mayNotAccessAnyLayer()
			// a new package must say where it belongs, or these rules would silently not apply to it
			.ensureAllClassesAreContainedInArchitecture()
			.because("the layers of ARCHITECTURE.md and STYLE.md: autoconfigure → annotation → listener → engine");
		rule.check(mainClasses);
	}

}
