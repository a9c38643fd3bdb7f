// The object a wrapped backend or provider is: the original one, seen through a Proxy that
// answers some methods itself. Everything else is the original's (its class for instanceof,
// its config, its other methods, bound to it so that its private fields work).

/**
 * `target` with `methods` in place of its own. Other functions are bound to
 * `target` (and the same bound function is returned each time).
 */
export function overlay<T extends object>(
  target: T,
  methods: Readonly<Record<string, (...args: never[]) => unknown>>,
): T {
  const bound = new Map<PropertyKey, { from: unknown; to: unknown }>();
  return new Proxy(target, {
    get(object, property) {
      if (typeof property === "string" && Object.hasOwn(methods, property)) {
        return methods[property];
      }
      const value = Reflect.get(object, property, object);
      if (typeof value !== "function" || property === "constructor") return value;
      const known = bound.get(property);
      if (known !== undefined && known.from === value) return known.to;
      const to = (value as (...args: unknown[]) => unknown).bind(object);
      bound.set(property, { from: value, to });
      return to;
    },
  });
}
