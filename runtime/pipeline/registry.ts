import type { StageFactory } from './stage.js';

/**
 * The one place class names become stages: built-in Spark stages, the ONNX stage and user
 * plugins all register here.
 */
export class StageRegistry {
  private readonly factories = new Map<string, StageFactory>();

  register(className: string, factory: StageFactory): void {
    if (this.factories.has(className)) throw new Error(`stage class ${className} is already registered`);
    this.factories.set(className, factory);
  }

  get(className: string): StageFactory | undefined {
    return this.factories.get(className);
  }

  has(className: string): boolean {
    return this.factories.has(className);
  }

  known(): string[] {
    return [...this.factories.keys()].sort();
  }
}
