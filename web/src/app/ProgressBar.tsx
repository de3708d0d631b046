// A progress bar (storage used, transfers): a labelled progressbar from 0 to 100.

export function ProgressBar(props: {
  label: string;
  /** 0 to 100. */
  pct: number;
  /** Said instead of the percentage. */
  valueText?: string;
  /** Drawn in the warning colour. */
  warn?: boolean;
  small?: boolean;
}) {
  return (
    <div
      class={"progress" + (props.small ? " progress-sm" : "")}
      role="progressbar"
      aria-label={props.label}
      aria-valuenow={props.pct}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuetext={props.valueText}
    >
      <div class={"progress-fill" + (props.warn ? " progress-warn" : "")} style={{ width: props.pct + "%" }} />
    </div>
  );
}
