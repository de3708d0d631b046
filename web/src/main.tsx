import { render } from "preact";
import { App } from "./app/App";
import { guardWindowDrops } from "./app/dnd";
import { initTheme } from "./app/theme";
import "./styles.css";

initTheme();
guardWindowDrops();
render(<App />, document.getElementById("app")!);
