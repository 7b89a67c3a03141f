/** Side-effect module: installs the Node shims with the default thread count, unless done already. */
import { installNodeShims } from "./node-shims.js";

installNodeShims();
