// A CEL validation rule as a CRD schema carries it (x-kubernetes-validations).

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
}
